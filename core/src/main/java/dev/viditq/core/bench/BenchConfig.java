package dev.viditq.core.bench;

import dev.viditq.core.parallel.Parallel;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToDoubleFunction;

/**
 * What a benchmark run measures (thread counts, quick or full sizes) and the services every
 * {@link KernelBenchmark} shares: timing with warm-up and medians, and ceilings measured once per run.
 */
public final class BenchConfig {
    private final List<Integer> threads;
    private final boolean quick;
    private final Map<String, Double> ceilings = new HashMap<>();

    public BenchConfig(List<Integer> threads, boolean quick) {
        if (threads.isEmpty() || threads.stream().anyMatch(t -> t < 1)) {
            throw new IllegalArgumentException("thread counts must be >= 1: " + threads);
        }
        this.threads = List.copyOf(threads);
        this.quick = quick;
    }

    /** Thread counts to measure each shape at. */
    public List<Integer> threads() {
        return threads;
    }

    /** Small shapes and few repetitions: a smoke run of a second or two, figures not meaningful. */
    public boolean quick() {
        return quick;
    }

    /** Repetitions whose median is reported. */
    public int repetitions() {
        return quick ? 2 : 7;
    }

    /** Sets the kernel thread pool to {@code t} threads (benchmarks call this before each measurement). */
    public void useThreads(int t) {
        Parallel.setThreads(t);
    }

    /**
     * Median wall time of one call of {@code work}, in seconds. Warms up first (until at least three calls and
     * half a second, so C2 has compiled the kernel), then times {@link #repetitions()} samples; calls shorter than
     * a few milliseconds are batched so each sample is long enough for the clock.
     */
    public double seconds(Runnable work) {
        double warmupSeconds = quick ? 0 : 0.5, minSample = quick ? 0 : 0.02;
        long start = System.nanoTime();
        int calls = 0;
        double oneCall;
        do {
            long t0 = System.nanoTime();
            work.run();
            oneCall = (System.nanoTime() - t0) / 1e9;
            calls++;
        } while (calls < (quick ? 1 : 3) || (System.nanoTime() - start) / 1e9 < warmupSeconds);
        int batch = (int) Math.max(1, Math.min(1_000_000, Math.ceil(minSample / Math.max(oneCall, 1e-9))));
        double[] samples = new double[repetitions()];
        for (int i = 0; i < samples.length; i++) {
            long t0 = System.nanoTime();
            for (int b = 0; b < batch; b++) work.run();
            samples[i] = (System.nanoTime() - t0) / 1e9 / batch;
        }
        return median(samples);
    }

    /**
     * The ceiling {@code name} at {@code threads} threads, measured by {@code measure} the first time it is asked
     * for in this run and remembered, so every benchmark compares against the same figure.
     */
    public double ceiling(String name, int threads, IntToDoubleFunction measure) {
        return ceilings.computeIfAbsent(name + "@" + threads, key -> measure.applyAsDouble(threads));
    }

    public static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
