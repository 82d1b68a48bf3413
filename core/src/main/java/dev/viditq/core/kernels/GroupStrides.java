package dev.viditq.core.kernels;

/**
 * Where the groups of a {@link Kernels#attentionGroups} call start: floats from group g's first query, key, value and
 * output element to group g + 1's. Groups of rows that follow each other (a video's frames in spatial attention, an
 * image's guided batch) are {@link #consecutive}. A video's temporal sequences are interleaved instead: sequence s is
 * patch s of every frame, its rows a frame apart, and sequence s + 1 starts one token row further on, so a fused q/k/v
 * buffer is read in place with strides of one row ({@link #oneRowApart}).
 */
public record GroupStrides(long q, long k, long v, long out) {
    public GroupStrides {
        if (q < 0 || k < 0 || v < 0 || out < 0) {
            throw new IllegalArgumentException("negative group stride: q " + q + ", k " + k + ", v " + v + ", out " + out);
        }
    }

    /** Groups of lq query and output rows and lk key and value rows, one after another. */
    public static GroupStrides consecutive(int lq, int lk, int qStride, int kStride, int vStride, int oStride) {
        return new GroupStrides((long) lq * qStride, (long) lk * kStride, (long) lk * vStride, (long) lq * oStride);
    }

    /** Group g + 1 one row after group g in every operand (rows of the widths given). */
    public static GroupStrides oneRowApart(int qWidth, int kWidth, int vWidth, int oWidth) {
        return new GroupStrides(qWidth, kWidth, vWidth, oWidth);
    }

    /**
     * Floats an operand of {@code groups} groups spans from its start: the last group's last row's heads. Throws when
     * the rows of one group would overlap their heads (a stride below heads·headDim).
     */
    public static long extent(int groups, long groupStride, int rows, int rowStride, int heads, int headDim, String name) {
        if (rowStride < (long) heads * headDim) {
            throw new IllegalArgumentException("attention " + name + " row stride " + rowStride + " < heads·headDim " + (long) heads * headDim);
        }
        if (groups == 0 || rows == 0) return 0;
        try {
            return Math.addExact(Math.multiplyExact(groups - 1L, groupStride), (long) (rows - 1) * rowStride + (long) heads * headDim);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("attention " + name + ": " + groups + " groups " + groupStride + " floats apart overflow");
        }
    }
}
