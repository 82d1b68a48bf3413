package dev.viditq.bench.kernels;

import dev.viditq.core.parallel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.function.IntToDoubleFunction;

/**
 * What the machine can do at most, measured the same way the kernels run (Java, this JVM, t threads at once):
 * <ul>
 *   <li>{@link #FP32_FMA}: GFLOP/s of a register-only loop of independent {@code FloatVector.fma} chains
 *       (no memory traffic: the peak a float kernel can approach);</li>
 *   <li>{@link #COPY_BANDWIDTH}: GB/s (bytes read + written) copying buffers far larger than the caches.</li>
 * </ul>
 * Ask through {@link BenchConfig#ceiling} (see {@link #fp32Fma}) so a run measures each once. A ceiling is the
 * best of several rounds (other processes can only slow a loop down); kernel figures are medians.
 */
public final class Ceilings {
    public static final String FP32_FMA = "fp32-fma";
    public static final String COPY_BANDWIDTH = "copy-bandwidth";

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Independent accumulator chains: more than FMA latency × FMA ports on any current x86 or ARM core. */
    private static final int CHAINS = 12;
    private static final int LOOP_ITERATIONS = 1 << 12;

    private Ceilings() {}

    public static double fp32Fma(BenchConfig config, int threads) {
        return config.ceiling(FP32_FMA, threads, t -> measureFma(t, config.quick()));
    }

    public static double copyBandwidth(BenchConfig config, int threads) {
        return config.ceiling(COPY_BANDWIDTH, threads, t -> measureCopy(t, config.quick()));
    }

    /**
     * One short round (50 ms) of the FMA loop on {@code threads} threads, GFLOP/s: a sample to take next to a
     * kernel's samples ({@link BenchConfig#secondsAndCeiling}). The first call per run warms the loop up.
     */
    public static double fp32FmaSample(BenchConfig config, int threads) {
        fp32Fma(config, threads);   // measured (and so compiled) once per run
        double seconds = config.quick() ? 0.002 : 0.05;
        long t0 = System.nanoTime();
        double flops = sum(concurrently(threads, t -> fmaFor(seconds)));
        return flops / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    /** One copy of 32 MiB per thread (own buffers, kept for the run), GB/s: a sample for memory-bound kernels. */
    public static double copySample(BenchConfig config, int threads) {
        copyBandwidth(config, threads);
        long bytes = config.quick() ? 1L << 20 : 32L << 20;
        MemorySegment[][] buffers = new MemorySegment[threads][];
        for (int t = 0; t < threads; t++) buffers[t] = sampleBuffers(t, bytes);
        long t0 = System.nanoTime();
        concurrently(threads, t -> {
            buffers[t][1].copyFrom(buffers[t][0]);
            return 0;
        });
        return 2.0 * bytes * threads / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    private static final List<MemorySegment[]> SAMPLE_BUFFERS = new ArrayList<>();

    private static synchronized MemorySegment[] sampleBuffers(int thread, long bytes) {
        while (SAMPLE_BUFFERS.size() <= thread) SAMPLE_BUFFERS.add(null);
        MemorySegment[] b = SAMPLE_BUFFERS.get(thread);
        if (b == null || b[0].byteSize() != bytes) {
            b = new MemorySegment[]{Arena.ofAuto().allocate(bytes, 64), Arena.ofAuto().allocate(bytes, 64)};
            b[0].fill((byte) 1);
            b[1].fill((byte) 2);
            SAMPLE_BUFFERS.set(thread, b);
        }
        return b;
    }

    /** FP32 FMA GFLOP/s of {@code threads} threads running the register loop together; best of 5 rounds. */
    static double measureFma(int threads, boolean quick) {
        double seconds = quick ? 0.002 : 0.2;
        BenchConfig warmup = new BenchConfig(List.of(threads), quick);
        warmup.warmUp(() -> concurrently(threads, t -> fmaFor(quick ? 0.002 : 0.05)));   // until C2 compiled the loop
        double[] rounds = new double[quick ? 2 : 5];
        for (int r = 0; r < rounds.length; r++) {
            long t0 = System.nanoTime();
            double flops = sum(concurrently(threads, t -> fmaFor(seconds)));
            rounds[r] = flops / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
        // the best round: other processes on the machine can only slow the loop down, never speed it up
        return Arrays.stream(rounds).max().orElseThrow();
    }

    /** Runs the FMA loop for about {@code seconds}; returns the flops done. */
    private static double fmaFor(double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long loops = 0;
        float sink = 0;
        do {
            sink += fmaLoop(LOOP_ITERATIONS, loops % 1000, 0.999999f, 1e-7f);
            loops++;
        } while (System.nanoTime() < end);
        if (sink == 42.4242f) System.out.print("");   // keep the result alive
        return (double) loops * LOOP_ITERATIONS * CHAINS * S.length() * 2;
    }

    /**
     * CHAINS independent chains a = a·m + c, all in registers. m and c arrive as arguments on purpose: when they
     * are compile-time constants, C2 re-broadcasts both from its constant table before every FMA (seen in the
     * disassembly), which halves the rate.
     */
    static float fmaLoop(int iterations, float seed, float mul, float add) {
        FloatVector m = FloatVector.broadcast(S, mul), c = FloatVector.broadcast(S, add);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (int i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    /**
     * Copy GB/s (2 × bytes copied per second) of {@code threads} threads, each copying its own buffers with
     * {@code MemorySegment.copyFrom} (the C library's copy: faster here than a Vector API copy loop); best of 5.
     */
    static double measureCopy(int threads, boolean quick) {
        long bytes = quick ? 1L << 20 : 64L << 20;   // per thread, per buffer: well beyond the L3
        try (Arena arena = Arena.ofShared()) {
            List<MemorySegment[]> buffers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                MemorySegment src = arena.allocate(bytes, 64), dst = arena.allocate(bytes, 64);
                src.fill((byte) 1);
                dst.fill((byte) 2);
                buffers.add(new MemorySegment[]{src, dst});
            }
            int passes = quick ? 1 : 4;
            double[] rounds = new double[quick ? 2 : 5];
            for (int r = -1; r < rounds.length; r++) {   // round -1 warms up
                long t0 = System.nanoTime();
                concurrently(threads, t -> {
                    for (int p = 0; p < passes; p++) buffers.get(t)[1].copyFrom(buffers.get(t)[0]);
                    return 0;
                });
                double gbs = 2.0 * bytes * passes * threads / ((System.nanoTime() - t0) / 1e9) / 1e9;
                if (r >= 0) rounds[r] = gbs;
            }
            return Arrays.stream(rounds).max().orElseThrow();
        }
    }

    /**
     * Runs {@code body(t)} for t in [0, threads) at the same time, one per thread of the kernels' own pool
     * ({@link Parallel}, resized to {@code threads}); returns the results. The kernels' threads, not fresh ones:
     * on a machine shared with other processes the scheduler favours threads that sleep between bursts (as pool
     * threads do) over new ones, and a ceiling measured on fresh threads came out at half of what the kernels got.
     * A barrier makes sure no thread runs two bodies one after the other.
     */
    private static double[] concurrently(int threads, IntToDoubleFunction body) {
        Parallel.setThreads(threads);
        double[] results = new double[threads];
        CyclicBarrier start = new CyclicBarrier(threads);
        Parallel.forEach(threads, t -> {
            try {
                start.await();
            } catch (Exception e) {
                throw new IllegalStateException("ceiling measurement interrupted", e);
            }
            results[t] = body.applyAsDouble(t);
        });
        return results;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s;
    }
}
