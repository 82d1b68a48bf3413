package dev.viditq.bench.profile;

/**
 * Whether the calling thread is inside a Linear timed by {@link TimingExecutor}. The kernels such an executor calls
 * itself (an MLP's activation as its own pass, a float step's GEMM) are part of that Linear's time, so
 * {@link TimingKernels} does not count them again: counted twice, the float path's GELU pass had made the untimed rest
 * of a BF16 step look 18 ms smaller than a W8A8 step's, whose GELU runs in the GEMM's epilogue.
 */
final class InsideLinear {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private InsideLinear() {}

    static void enter() {
        DEPTH.get()[0]++;
    }

    static void exit() {
        DEPTH.get()[0]--;
    }

    static boolean active() {
        return DEPTH.get()[0] > 0;
    }
}
