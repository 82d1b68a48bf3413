package dev.viditq.core.kernels;

/**
 * Per-thread scratch arrays for the Java kernels (packed panels, copies of activation blocks), grown on demand
 * and kept, so steady-state kernels allocate nothing. Each slot is used by one kernel phase at a time; a kernel
 * must not hold two uses of the same slot at once. A kernel's calling thread may hand its X / KEYS / VALUES
 * arrays to the pool's threads (read-only); the per-task slots (PANEL, ROW, STRIP, ACC, STATS) stay with the
 * thread that runs the task, the caller included. At most a few tens of MiB per thread: X is bounded by
 * {@link Gemm#X_BLOCK_FLOATS}, attention's KEYS/VALUES by {@link FlashAttention#STAGE_FLOATS} (or one head),
 * conv2d's widened weights by the size of its kernel.
 */
final class Scratch {
    enum Slot {
        /** GEMM: the x block (activation rows copied to the heap). */
        X,
        /** GEMM: the packed weight panel; attention: the packed query panel; conv2d: the im2col panel. */
        PANEL,
        /** GEMM: the NR weight rows of a panel slice, widened side by side; small-m GEMM: one widened weight row;
         *  attention: the query rows of a tile before packing, and its output rows. */
        ROW,
        /** GEMM: output tiles that do not fit the destination (tails); attention: the score tile. */
        STRIP,
        /** Attention: the output accumulator tile. */
        ACC,
        /** Conv2d: the weights widened to float; attention: the staged K rows of a group of heads. */
        KEYS,
        /** Attention: the staged V rows of a group of heads. */
        VALUES,
        /** Attention: running max and sum of each query of a tile. */
        STATS,
    }

    private static final ThreadLocal<float[][]> LOCAL = ThreadLocal.withInitial(() -> new float[Slot.values().length][]);

    private Scratch() {}

    /** A thread-local array of at least {@code size} floats; contents are left from earlier use. */
    static float[] floats(Slot slot, long size) {
        if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("scratch of " + size + " floats is too large");
        float[][] all = LOCAL.get();
        float[] a = all[slot.ordinal()];
        if (a == null || a.length < size) {
            // grow by half again so slowly growing sizes do not reallocate each call
            long grown = Math.max(size, a == null ? 0 : Math.min(Integer.MAX_VALUE - 8, a.length + (long) a.length / 2));
            a = new float[(int) grown];
            all[slot.ordinal()] = a;
        }
        return a;
    }
}
