package dev.viditq.bench.kernels;

import dev.viditq.core.parallel.Parallel;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
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
     * Median wall time of one call of {@code work}, in seconds. Warms up first (see {@link #warmUp}), then times
     * {@link #repetitions()} samples; calls shorter than a few milliseconds are batched so each sample is long
     * enough for the clock.
     */
    public double seconds(Runnable work) {
        return secondsAndCeiling(work, () -> 0).seconds();
    }

    /** A kernel's median time per call, and the median of the ceiling samples taken between its samples. */
    public record Measured(double seconds, double ceiling) {}

    /**
     * As {@link #seconds}, taking one sample of a ceiling after each sample of {@code work}, so that the kernel
     * and its ceiling are measured under the same load: on a machine shared with other work, a ceiling measured
     * once a minute earlier can make a ratio off by a factor of two.
     */
    public Measured secondsAndCeiling(Runnable work, DoubleSupplier ceilingSample) {
        double oneCall = warmUp(work);
        // the ceiling loop too: loading the kernel's classes can make HotSpot drop its compiled code
        warmUp(ceilingSample::getAsDouble);
        double minSample = quick ? 0 : 0.02;
        int batch = (int) Math.max(1, Math.min(1_000_000, Math.ceil(minSample / Math.max(oneCall, 1e-9))));
        double[] samples = new double[repetitions()], ceilings = new double[repetitions()];
        for (int i = 0; i < samples.length; i++) {
            long t0 = System.nanoTime();
            for (int b = 0; b < batch; b++) work.run();
            samples[i] = (System.nanoTime() - t0) / 1e9 / batch;
            ceilings[i] = ceilingSample.getAsDouble();
        }
        return new Measured(median(samples), median(ceilings));
    }

    /**
     * Calls {@code work} until the JIT has finished with it: at least three calls and a second, and then
     * until two calls in a row ran without any compilation happening in the JVM (at most {@link #MAX_WARMUP_S}).
     * A fixed warm-up is not enough for Vector API code: until C2 has compiled a kernel it runs interpreted or
     * in C1 code hundreds of times slower, and on a busy machine C2 can take seconds to get to it.
     * Returns the duration of the last call.
     */
    public double warmUp(Runnable work) {
        double minSeconds = quick ? 0 : 1.0;
        int minCalls = quick ? 1 : 3;
        long start = System.nanoTime();
        int calls = 0, quietCalls = 0;
        double last;
        do {
            long compiledBefore = compilationMillis();
            long t0 = System.nanoTime();
            work.run();
            last = (System.nanoTime() - t0) / 1e9;
            calls++;
            quietCalls = compilationMillis() == compiledBefore ? quietCalls + 1 : 0;
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (quick || elapsed > MAX_WARMUP_S) break;
            if (calls >= minCalls && elapsed >= minSeconds && quietCalls >= 2) break;
        } while (true);
        return last;
    }

    /** Longest warm-up of one measurement, in seconds. */
    public static final double MAX_WARMUP_S = 30;

    private static long compilationMillis() {
        var jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
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
