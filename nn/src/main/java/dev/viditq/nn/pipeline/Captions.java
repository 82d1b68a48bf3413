package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.Tensor;

/**
 * Caption embeddings for a batch, as the text encoder produces them.
 *
 * @param embeddings F32 [B, L, Dt]
 * @param mask       F32 [B, L], 1 for real tokens and 0 for padding; null when every token is valid
 */
public record Captions(Tensor embeddings, Tensor mask) {
    public Captions {
        if (embeddings.rank() != 3) throw new IllegalArgumentException("caption embeddings must be [B, L, D], got " + embeddings);
        embeddings = embeddings.toF32();
        if (mask != null) {
            if (mask.numel() != embeddings.dim(0) * embeddings.dim(1)) {
                throw new IllegalArgumentException("caption mask " + mask + " does not match embeddings " + embeddings);
            }
            mask = mask.toF32().reshape(embeddings.dim(0), embeddings.dim(1));
        }
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

    /** Real tokens of sample {@code b} (all of them without a mask). */
    public int validLength(int b) {
        if (mask == null) return length();
        int n = 0;
        for (int t = 0; t < length(); t++) if (mask.getFloat((long) b * length() + t) != 0) n++;
        return n;
    }

    /** The first {@code tokens} tokens of every sample. */
    public Captions truncate(int tokens) {
        if (tokens < 1 || tokens > length()) throw new IllegalArgumentException("cannot keep " + tokens + " of " + length() + " tokens");
        int b = batch(), l = length(), d = width();
        float[] e = new float[b * tokens * d];
        float[] m = mask == null ? null : new float[b * tokens];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < d; k++) e[(i * tokens + t) * d + k] = embeddings.getFloat(((long) i * l + t) * d + k);
                if (m != null) m[i * tokens + t] = mask.getFloat((long) i * l + t);
            }
        }
        return new Captions(Tensor.of(e, b, tokens, d), m == null ? null : Tensor.of(m, b, tokens));
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
        return new Captions(e, null);
    }
}
