package dev.viditq.nn.text;

import dev.viditq.core.tensor.Tensor;

import java.util.Arrays;

/**
 * Caption embeddings for a batch as the text encoder produces them ({@link TextEncoder#encode}), with the number of
 * real tokens of each caption as the tokenizer counted them. How a family hands them to its model (masked, cut to
 * the real tokens, padding zeroed) is the family's rule, not this type's.
 *
 * @param embeddings   F32 [B, L, Dt]
 * @param mask         F32 [B, L], 1 for real tokens and 0 for padding; null when the model attends to every row
 * @param validLengths real tokens of each caption [B] (right-padded: they come first); kept when the mask is dropped
 */
public record Captions(Tensor embeddings, Tensor mask, int[] validLengths) {
    public Captions {
        if (embeddings.rank() != 3) throw new IllegalArgumentException("caption embeddings must be [B, L, D], got " + embeddings);
        embeddings = embeddings.toF32();
        if (mask != null) {
            if (mask.numel() != embeddings.dim(0) * embeddings.dim(1)) {
                throw new IllegalArgumentException("caption mask " + mask + " does not match embeddings " + embeddings);
            }
            mask = mask.toF32().reshape(embeddings.dim(0), embeddings.dim(1));
        }
        if (validLengths.length != embeddings.dim(0)) {
            throw new IllegalArgumentException(validLengths.length + " token counts for " + embeddings.dim(0) + " captions");
        }
        for (int n : validLengths) {
            if (n < 0 || n > embeddings.dim(1)) {
                throw new IllegalArgumentException("token count " + n + " outside [0, " + embeddings.dim(1) + "]");
            }
        }
        validLengths = validLengths.clone();
    }

    /**
     * Captions given as tensors (an embeddings file, a caller) rather than by the text encoder: each caption's real
     * tokens are counted from its mask, here, once (all of them without a mask).
     */
    public Captions(Tensor embeddings, Tensor mask) {
        this(embeddings, mask, countValid(embeddings, mask));
    }

    private static int[] countValid(Tensor embeddings, Tensor mask) {
        if (embeddings.rank() != 3) throw new IllegalArgumentException("caption embeddings must be [B, L, D], got " + embeddings);
        int b = embeddings.size(0), l = embeddings.size(1);
        int[] counts = new int[b];
        if (mask == null) {
            Arrays.fill(counts, l);
            return counts;
        }
        if (mask.numel() != (long) b * l) throw new IllegalArgumentException("caption mask " + mask + " does not match embeddings " + embeddings);
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < l; t++) if (mask.getFloat((long) i * l + t) != 0) counts[i]++;
        }
        return counts;
    }

    public int batch() {
        return embeddings.size(0);
    }

    public int length() {
        return embeddings.size(1);
    }

    public int width() {
        return embeddings.size(2);
    }

    /** Real tokens of caption {@code b}. */
    public int validLength(int b) {
        return validLengths[b];
    }

    @Override
    public int[] validLengths() {
        return validLengths.clone();
    }

    /** Captions [from, to) of the batch, copied. */
    public Captions rows(int from, int to) {
        if (from < 0 || to > batch() || from >= to) throw new IllegalArgumentException("captions [" + from + ", " + to + ") of " + batch());
        return new Captions(embeddings.sliceRows(from, to).copy(), mask == null ? null : mask.sliceRows(from, to).copy(),
                Arrays.copyOfRange(validLengths, from, to));
    }

    /** The first {@code tokens} tokens of every caption. */
    public Captions truncate(int tokens) {
        if (tokens < 1 || tokens > length()) throw new IllegalArgumentException("cannot keep " + tokens + " of " + length() + " tokens");
        int b = batch(), l = length(), d = width();
        float[] e = new float[b * tokens * d];
        float[] m = mask == null ? null : new float[b * tokens];
        int[] valid = new int[b];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < d; k++) e[(i * tokens + t) * d + k] = embeddings.getFloat(((long) i * l + t) * d + k);
                if (m != null) m[i * tokens + t] = mask.getFloat((long) i * l + t);
            }
            valid[i] = Math.min(validLengths[i], tokens);
        }
        return new Captions(Tensor.of(e, b, tokens, d), m == null ? null : Tensor.of(m, b, tokens), valid);
    }

    /** The same embeddings and token counts without the mask: the model attends to every row. */
    public Captions withoutMask() {
        return mask == null ? this : new Captions(embeddings, null, validLengths);
    }

    /** The same embeddings and token counts with a mask of ones where there is none (every row attended). */
    public Captions withFullMask() {
        if (mask != null) return this;
        float[] ones = new float[batch() * length()];
        Arrays.fill(ones, 1f);
        return new Captions(embeddings, Tensor.of(ones, batch(), length()), validLengths);
    }

    /** Embeddings multiplied by the mask (padding rows zeroed), no mask kept. */
    public Captions maskedToZero() {
        if (mask == null) return this;
        Tensor e = embeddings.copy();
        int l = length(), d = width();
        for (int i = 0; i < batch(); i++) {
            for (int t = 0; t < l; t++) {
                float m = mask.getFloat((long) i * l + t);
                for (int k = 0; k < d; k++) {
                    long at = ((long) i * l + t) * d + k;
                    e.setFloat(at, e.getFloat(at) * m);
                }
            }
        }
        return new Captions(e, null, validLengths);
    }
}
