package dev.viditq.quant;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.StepContext.CfgHalf;
import dev.viditq.quant.calib.LayerStats;

import java.util.Arrays;
import java.util.Locale;

/**
 * Manual check (not a test; docs/BENCHMARKS.md, "Calibration on many cores"): what recording a Linear's input costs
 * beside the GEMM it observes. For x [rows, k] and a k × k weight it times, interleaved round by round after 5
 * warm-up rounds, {@link LayerStats#record} (serial, on the calling thread, as calibration runs it) and the float GEMM
 * on the pool's threads ({@code -Dviditq.threads}, default all); prints the medians and their ratio.
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp CP dev.viditq.quant.LayerStatsSpeedCheck ROWS K [ROUNDS]
 * </pre>
 */
public final class LayerStatsSpeedCheck {
    private LayerStatsSpeedCheck() {}

    public static void main(String[] args) {
        int rows = Integer.parseInt(args[0]), k = Integer.parseInt(args[1]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        SeededGaussian rng = new SeededGaussian(1);
        Tensor x = rng.next(rows, k), w = rng.next(k, k), out = Tensor.zeros(rows, k);
        LayerStats stats = new LayerStats("l", k, 1);
        double[] record = new double[rounds], gemm = new double[rounds];
        for (int r = -5; r < rounds; r++) {
            long a = System.nanoTime();
            stats.record(x.data(), rows, 0, CfgHalf.BATCH_COND_FIRST);
            long b = System.nanoTime();
            KernelBackend.get().gemm(x.data(), rows, k, w, null, out.data());
            long c = System.nanoTime();
            if (r >= 0) {
                record[r] = (b - a) / 1e3;
                gemm[r] = (c - b) / 1e3;
            }
        }
        double rec = median(record), mm = median(gemm);
        System.out.printf(Locale.ROOT, "x [%d, %d], %d rounds, medians: record %.0f µs | GEMM with a %d×%d weight on %d threads "
                + "%.0f µs | record / GEMM %.3f%n", rows, k, rounds, rec, k, k, Parallel.threads(), mm, rec / mm);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
