package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.parallel.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * What handing work to the thread pool costs, next to a kernel of a sampling step's size. A forward pass of
 * PixArt-XL/2 makes some 800 pool calls, so their overhead bounds how far a step scales with the threads:
 * <ul>
 *   <li>{@code fork-join}: µs per {@code Parallel.forEach} of one empty task per thread, back to back;</li>
 *   <li>{@code fork-join-gap}: µs per call of {@value #GAP_MICROS} µs of serial work on the calling thread (as the
 *       Java between a model's kernels) and then such a forEach: what exceeds the gap is the hand-off;</li>
 *   <li>{@code layerNorm-step}: LayerNorm on 512 × 1152 floats (a step at 256 px with guidance; in cache), GB/s
 *       against the one-thread rate times the threads: the ratio is the parallel efficiency.</li>
 * </ul>
 */
public final class ParallelBenchmark implements KernelBenchmark {
    static final int GAP_MICROS = 50;

    @Override
    public String name() {
        return "parallel";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        List<BenchResult> results = new ArrayList<>();
        for (int t : config.threads()) {
            config.useThreads(t);
            int tasks = t;
            double back = config.seconds(() -> Parallel.forEach(tasks, i -> {}));
            results.add(BenchResult.of("fork-join", tasks, 0, 0, t, back * 1e6, "us", 0));
            double gap = config.seconds(() -> {
                spin(GAP_MICROS * 1000L);
                Parallel.forEach(tasks, i -> {});
            });
            results.add(BenchResult.of("fork-join-gap", tasks, 0, 0, t, gap * 1e6, "us", 0));
        }
        results.addAll(layerNormScaling(config));
        return results;
    }

    private static List<BenchResult> layerNormScaling(BenchConfig config) {
        int rows = config.quick() ? 8 : 512, cols = config.quick() ? 40 : 1152;
        long n = (long) rows * cols;
        MemorySegment x = BenchData.floats(n, 21), out = BenchData.floats(n, 22), gamma = BenchData.floats(cols, 23);
        Kernels kernels = KernelBackend.get();
        Runnable norm = () -> kernels.layerNorm(x, rows, cols, gamma, gamma, 1e-6f, out);
        double bytes = 2.0 * n * Float.BYTES;
        config.useThreads(1);
        double oneThread = bytes / config.seconds(norm) / 1e9;
        List<BenchResult> results = new ArrayList<>();
        for (int t : config.threads()) {
            config.useThreads(t);
            double gbs = bytes / config.seconds(norm) / 1e9;
            results.add(BenchResult.of("layerNorm-step", rows, cols, 0, t, gbs, "GB/s", oneThread * t));
        }
        return results;
    }

    /** Busy-waits for {@code nanos} on this thread (the pool's helpers see no work meanwhile). */
    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
