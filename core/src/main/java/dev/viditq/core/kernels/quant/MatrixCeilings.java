package dev.viditq.core.kernels.quant;

import dev.viditq.core.parallel.Parallel;

import java.util.Optional;
import java.util.concurrent.CyclicBarrier;

/**
 * The ceilings of the CPU's matrix units: register-only loops in C (4 accumulator tiles for AMX, 16 vdpbf16ps
 * chains for AVX512-BF16) run on t threads of the kernels' pool at once, in operations per second. What a kernel
 * on that unit is divided by in {@code bench kernels}.
 */
public final class MatrixCeilings {
    /** A unit's ceiling: the row name of {@code bench kernels} and its unit. */
    public enum Kind {
        AMX_INT8("ceiling-amx-int8", "GOP/s", NativeMatrix.Unit.AMX, NativeMatrix.AMX_INT8_PEAK_OPS_PER_ITER),
        AMX_BF16("ceiling-amx-bf16", "GFLOP/s", NativeMatrix.Unit.AMX, NativeMatrix.AMX_BF16_PEAK_FLOPS_PER_ITER),
        AVX512_BF16("ceiling-avx512-bf16", "GFLOP/s", NativeMatrix.Unit.AVX512_BF16, NativeMatrix.BF16_DOT_PEAK_FLOPS_PER_ITER);

        public final String row;
        public final String unit;
        final NativeMatrix.Unit hardware;
        final long opsPerIteration;

        Kind(String row, String unit, NativeMatrix.Unit hardware, long opsPerIteration) {
            this.row = row;
            this.unit = unit;
            this.hardware = hardware;
            this.opsPerIteration = opsPerIteration;
        }
    }

    private MatrixCeilings() {}

    /** The ceiling of the unit a float GEMM runs on in BF16: AMX-BF16 or AVX512-BF16. */
    public static Kind ofFloatUnit(NativeMatrix.Unit unit) {
        return unit == NativeMatrix.Unit.AMX ? Kind.AMX_BF16 : Kind.AVX512_BF16;
    }

    /**
     * G-operations per second of {@code kind} on {@code threads} threads, the best of {@code rounds} rounds of about
     * {@code seconds} each (other processes can only slow a register loop down); empty when the unit does not run here.
     */
    public static Optional<Double> measure(Kind kind, int threads, double seconds, int rounds) {
        Optional<NativeMatrix> engines = NativeMatrix.get();
        if (engines.isEmpty() || !engines.get().has(kind.hardware)) return Optional.empty();
        NativeMatrix m = engines.get();
        long iters = calibrate(m, kind, seconds);
        double best = 0;
        for (int r = 0; r < rounds; r++) best = Math.max(best, gops(m, kind, threads, iters));
        return Optional.of(best);
    }

    /**
     * One round of {@code kind}'s loop, {@code iterations} per thread (see {@link #iterations}) on {@code threads}
     * threads at once: a sample to take right after a kernel's sample, so that both meet the same host.
     */
    public static double sample(Kind kind, int threads, long iterations) {
        return gops(engines(kind), kind, threads, iterations);
    }

    /** Iterations of {@code kind}'s loop that take about {@code seconds} on one thread (for {@link #sample}). */
    public static long iterations(Kind kind, double seconds) {
        return calibrate(engines(kind), kind, seconds);
    }

    private static NativeMatrix engines(Kind kind) {
        return NativeMatrix.get().filter(e -> e.has(kind.hardware))
                .orElseThrow(() -> new IllegalStateException(kind + " does not run here"));
    }

    /** Iterations of the loop that take about {@code seconds} on one thread. */
    private static long calibrate(NativeMatrix m, Kind kind, double seconds) {
        long iters = 1000;
        while (true) {
            long t0 = System.nanoTime();
            run(m, kind, iters);
            double took = (System.nanoTime() - t0) / 1e9;
            if (took >= seconds / 4 || iters > (1L << 40)) return Math.max(1, (long) (iters * seconds / Math.max(took, 1e-9)));
            iters *= 4;
        }
    }

    /** One round: every thread of the pool (resized to {@code threads}) runs the loop at the same time. */
    private static double gops(NativeMatrix m, Kind kind, int threads, long iters) {
        Parallel.setThreads(threads);
        CyclicBarrier start = new CyclicBarrier(threads);
        long t0 = System.nanoTime();
        Parallel.forEach(threads, t -> {
            try {
                start.await();
            } catch (Exception e) {
                throw new IllegalStateException("ceiling measurement interrupted", e);
            }
            run(m, kind, iters);
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        return (double) threads * iters * kind.opsPerIteration / seconds / 1e9;
    }

    private static void run(NativeMatrix m, Kind kind, long iters) {
        if (!m.peak(kind.hardware, kind == Kind.AMX_INT8, iters)) throw new IllegalStateException(kind + " does not run here");
    }
}
