package dev.viditq.quant;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.StepContext.CfgHalf;
import dev.viditq.quant.calib.LayerStats;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;

/**
 * Manual check (not a test; docs/BENCHMARKS.md, "Calibration on many cores"): what recording a Linear's input costs
 * beside the GEMM it observes. For x [rows, k] and a k × k weight it times the serial scan calibration used before (a
 * row copied out, then one pass), {@link LayerStats#record} on 1 thread and on all
 * threads, and the float GEMM on all threads ({@code -Dviditq.threads}); prints the medians.
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp CP dev.viditq.quant.LayerStatsSpeedCheck ROWS K [ROUNDS]
 * </pre>
 */
public final class LayerStatsSpeedCheck {
    private LayerStatsSpeedCheck() {}

    public static void main(String[] args) {
        int rows = Integer.parseInt(args[0]), k = Integer.parseInt(args[1]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        int threads = Parallel.threads();
        SeededGaussian rng = new SeededGaussian(1);
        Tensor x = rng.next(rows, k), w = rng.next(k, k), out = Tensor.zeros(rows, k);
        LayerStats stats = new LayerStats("l", k, 1);
        float[] absmax = new float[2 * k], range = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE};
        double[][] t = new double[4][rounds];
        // two phases (changing the pool's size each round would time the pool's start): the serial scan and record
        // on 1 thread interleaved, then record and the GEMM on all threads interleaved; 5 warm-up rounds each
        Parallel.setThreads(1);
        for (int r = -5; r < rounds; r++) {
            long a = System.nanoTime();
            serialScan(x.data(), rows, k, absmax, range);
            long b = System.nanoTime();
            stats.record(x.data(), rows, 0, CfgHalf.BATCH_COND_FIRST);
            long c = System.nanoTime();
            if (r >= 0) {
                t[0][r] = (b - a) / 1e3;
                t[1][r] = (c - b) / 1e3;
            }
        }
        Parallel.setThreads(threads);
        for (int r = -5; r < rounds; r++) {
            long c = System.nanoTime();
            stats.record(x.data(), rows, 0, CfgHalf.BATCH_COND_FIRST);
            long d = System.nanoTime();
            KernelBackend.get().gemm(x.data(), rows, k, w, null, out.data());
            long e = System.nanoTime();
            if (r >= 0) {
                t[2][r] = (d - c) / 1e3;
                t[3][r] = (e - d) / 1e3;
            }
        }
        System.out.printf(Locale.ROOT, "x [%d, %d], %d rounds, medians in µs: serial scan (before) %.0f | record, 1 thread %.0f | "
                        + "record, %d threads %.0f | GEMM with a %d×%d weight, %d threads %.0f%n", rows, k, rounds, median(t[0]),
                median(t[1]), threads, median(t[2]), k, k, threads, median(t[3]));
    }

    /** The scan as calibration ran it before: each row copied to an array, then one pass over it, on the calling thread. */
    private static void serialScan(MemorySegment x, int rows, int k, float[] absmax, float[] range) {
        float[] row = new float[k];
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(x, Tensor.F32_LE, (long) r * k * Float.BYTES, row, 0, k);
            int h = r >= rows / 2 ? 1 : 0, base = h * k;
            float lo = range[2 * h], hi = range[2 * h + 1];
            for (int c = 0; c < k; c++) {
                float v = row[c], a = Math.abs(v);
                if (a > absmax[base + c]) absmax[base + c] = a;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            range[2 * h] = lo;
            range[2 * h + 1] = hi;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
