package dev.viditq.nn.layers;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntPredicate;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Which caption tokens each sample's cross-attention sees. Two official semantics exist and differ only when a
 * caption has no valid token:
 * <ul>
 *   <li>{@link #dropMasked}: the original PixArt / Open-Sora code removes masked tokens
 *       ({@code masked_select} + xformers' block-diagonal mask); a sample with no valid token attends to nothing
 *       and its attention output is zero;</li>
 *   <li>{@link #additive}: diffusers adds (1 - mask)·(-10000) to the scores, so an all-masked caption
 *       attends uniformly to every token.</li>
 * </ul>
 * Mask values: non-zero = keep. A mask with fewer rows than the batch is tiled ({@code mask.repeat}), as the
 * original code does for the CFG batch.
 */
public final class CaptionMask {
    private static final float REMOVED = Float.NEGATIVE_INFINITY;

    private final MemorySegment[] biases; // per mask row, null = no bias
    private final boolean[] empty;        // per mask row: attends to nothing
    private final boolean[][] kept;       // per mask row: which tokens are real (not padding); null row = all

    private CaptionMask(MemorySegment[] biases, boolean[] empty, boolean[][] kept) {
        this.biases = biases;
        this.empty = empty;
        this.kept = kept;
    }

    /** Every token of every caption is seen. */
    public static CaptionMask none() {
        return new CaptionMask(new MemorySegment[]{null}, new boolean[]{false}, new boolean[1][]);
    }

    /** Original repos: masked tokens are removed. {@code mask} has {@code tokens} values per row. */
    public static CaptionMask dropMasked(Tensor mask, int tokens) {
        float[] m = values(mask, tokens);
        int rows = m.length / tokens;
        MemorySegment[] biases = new MemorySegment[rows];
        boolean[] empty = new boolean[rows];
        for (int r = 0; r < rows; r++) {
            float[] bias = new float[tokens];
            int valid = 0;
            for (int j = 0; j < tokens; j++) {
                boolean keep = m[r * tokens + j] != 0;
                bias[j] = keep ? 0 : REMOVED;
                if (keep) valid++;
            }
            empty[r] = valid == 0;
            biases[r] = valid == tokens ? null : segment(bias);
        }
        return new CaptionMask(biases, empty, keptTokens(m, tokens));
    }

    /** diffusers: bias (1 - m)·{@code maskedBias} on every key (-10000 in PixArt). */
    public static CaptionMask additive(Tensor mask, int tokens, float maskedBias) {
        float[] m = values(mask, tokens);
        int rows = m.length / tokens;
        MemorySegment[] biases = new MemorySegment[rows];
        for (int r = 0; r < rows; r++) {
            float[] bias = new float[tokens];
            for (int j = 0; j < tokens; j++) bias[j] = (1 - m[r * tokens + j]) * maskedBias;
            biases[r] = segment(bias);
        }
        return new CaptionMask(biases, new boolean[rows], keptTokens(m, tokens));
    }

    /** Per mask row, which tokens are real (mask non-zero); null for a row without padding. */
    private static boolean[][] keptTokens(float[] m, int tokens) {
        int rows = m.length / tokens;
        boolean[][] kept = new boolean[rows][];
        for (int r = 0; r < rows; r++) {
            boolean[] k = new boolean[tokens];
            boolean all = true;
            for (int j = 0; j < tokens; j++) all &= k[j] = m[r * tokens + j] != 0;
            kept[r] = all ? null : k;
        }
        return kept;
    }

    /**
     * Which rows of the caption context [batch · tokens, C] are real tokens rather than padding, or null when every
     * row is. Padding rows are projected to keys and values like the others but never attended to (removed, or
     * biased by -10000); calibration must not record them ({@link Linear#forward(Tensor, IntPredicate)}).
     */
    public IntPredicate realTokenRows(int batch, int tokens) {
        checkBatch(batch);
        boolean anyPadding = false;
        for (boolean[] k : kept) anyPadding |= k != null;
        if (!anyPadding) return null;
        return row -> {
            boolean[] k = kept[row(row / tokens)];
            return k == null || k[row % tokens];
        };
    }

    /** The mask row sample {@code b} uses (rows tile over the batch). */
    private int row(int b) {
        return b % biases.length;
    }

    /** Checks that the mask's rows tile a batch of {@code batch}. */
    public void checkBatch(int batch) {
        if (batch % biases.length != 0) {
            throw new IllegalArgumentException("caption mask has " + biases.length + " rows, which do not tile a batch of " + batch);
        }
    }

    public AttentionBias bias(int sample) {
        MemorySegment b = biases[row(sample)];
        return b == null ? AttentionBias.NONE : AttentionBias.perKey(b);
    }

    /** True when sample {@code sample} attends to no token at all (its cross-attention output is zero). */
    public boolean attendsToNothing(int sample) {
        return empty[row(sample)];
    }

    private static float[] values(Tensor mask, int tokens) {
        if (mask.numel() % tokens != 0 || mask.numel() == 0) {
            throw new IllegalArgumentException("caption mask " + mask + " does not hold rows of " + tokens + " tokens");
        }
        float[] m = new float[Math.toIntExact(mask.numel())];
        for (int i = 0; i < m.length; i++) m[i] = mask.getFloat(i);
        return m;
    }

    private static MemorySegment segment(float[] values) {
        MemorySegment s = Arena.ofAuto().allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, s, F32_LE, 0, values.length);
        return s;
    }
}
