package dev.viditq.bench.profile;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.parallel.PoolStats;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Splits a model's time into GEMM (every {@link Linear}, through {@link TimingExecutor}), attention and other kernels
 * (through {@link TimingKernels}), and the rest (the Java code between kernels: modulation, residual adds, copies,
 * allocation). {@link #open} installs the wrappers, {@link #close} removes them: nothing is timed outside a benchmark.
 *
 * <p>Install it after any quantization so that it wraps the quantized executors.
 */
public final class StepProfiler implements AutoCloseable {
    private final Map<Linear, Linear.Executor> originals = new LinkedHashMap<>();
    private final LongAdder gemmNanos = new LongAdder();
    private final LongAdder gemmFlops = new LongAdder();
    private final GemmShapes gemmShapes = new GemmShapes();
    private final TimingKernels kernels;
    private final Kernels previousKernels;
    private final TimingIntKernels intKernels;
    private final IntKernels previousIntKernels;

    private StepProfiler(Denoiser model) {
        for (Linear l : model.linears().values()) {
            originals.put(l, l.executor());
            l.setExecutor(new TimingExecutor(l.executor(), gemmNanos, gemmFlops, gemmShapes));
        }
        previousKernels = KernelBackend.get();
        kernels = new TimingKernels(previousKernels);
        KernelBackend.set(kernels);
        previousIntKernels = IntKernelBackend.get();
        intKernels = new TimingIntKernels(previousIntKernels);
        IntKernelBackend.set(intKernels);
        Parallel.recordStats(true);
    }

    public static StepProfiler open(Denoiser model) {
        return new StepProfiler(model);
    }

    /** The counters so far; subtract two snapshots for one step. */
    public Snapshot snapshot() {
        return new Snapshot(System.nanoTime(), gemmNanos.sum(), kernels.attentionNanos.sum(), kernels.otherNanosByKind(),
                intKernels.quantizeNanos.sum(), gemmFlops.sum(), ActivationPool.allocationNanos(), gcMillis(), Parallel.stats());
    }

    /** Collection time of every collector of this JVM so far (milliseconds, as the JVM counts it). */
    static long gcMillis() {
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) ms += Math.max(0, gc.getCollectionTime());
        return ms;
    }

    /** Prints the GEMM time per shape accumulated since {@link #open} or the last {@link #clearShapes}. */
    public void printShapes(java.io.PrintStream log) {
        gemmShapes.print(log);
    }

    /** Forgets the GEMM shapes so far (after a warm-up step, whose JIT compilation would skew them). */
    public void clearShapes() {
        gemmShapes.clear();
    }

    @Override
    public void close() {
        originals.forEach(Linear::setExecutor);
        KernelBackend.set(previousKernels);
        IntKernelBackend.set(previousIntKernels);
        Parallel.recordStats(false);
    }

    /** Cumulative nanoseconds (and GEMM operations) at one moment. */
    public record Snapshot(long wallNanos, long gemmNanos, long attentionNanos, long[] otherNanosByKind, long quantizeNanos,
                           long gemmFlops, long allocationNanos, long gcMillis, PoolStats pool) {
        /** A clock without counters, for engines that are not instrumented. */
        public static Snapshot wallOnly() {
            return new Snapshot(System.nanoTime(), 0, 0, new long[TimingKernels.Other.values().length], 0, 0, 0, 0,
                    PoolStats.NONE);
        }

        /** What happened between {@code earlier} and this snapshot. */
        public Split since(Snapshot earlier) {
            long wall = wallNanos - earlier.wallNanos;
            long gemm = gemmNanos - earlier.gemmNanos;
            long attention = attentionNanos - earlier.attentionNanos;
            long other = 0;
            Map<String, Double> byKind = new LinkedHashMap<>();
            for (TimingKernels.Other kind : TimingKernels.Other.values()) {
                long n = otherNanosByKind[kind.ordinal()] - earlier.otherNanosByKind[kind.ordinal()];
                other += n;
                if (n > 0) byKind.put(kind.key(), n / 1e9);
            }
            return new Split(wall / 1e9, gemm / 1e9, attention / 1e9, other / 1e9, (wall - gemm - attention - other) / 1e9,
                    (quantizeNanos - earlier.quantizeNanos) / 1e9, gemmFlops - earlier.gemmFlops,
                    (allocationNanos - earlier.allocationNanos) / 1e9, (gcMillis - earlier.gcMillis) / 1e3, byKind,
                    pool.minus(earlier.pool));
        }
    }

    /**
     * Seconds of one interval: total wall time, GEMM (with what a Linear's executor runs itself: an MLP's activation),
     * attention, the other kernels (norms, activations outside a Linear, elementwise, patch-embedding convolution; each
     * kind's share in {@code otherByKind}, seconds by
     * {@link TimingKernels.Other#key}), and the untimed rest (Java glue code, sampler); the activation
     * quantization of integer layers (a part of gemm); the GEMM operations (2·rows·in·out summed over the Linears);
     * and two figures that cut across the others: the time spent obtaining activation memory (zero-fills and the
     * collections {@link ActivationPool} asks for included; inside Linears it is part of gemm, elsewhere of untimed)
     * and the JVM's collection time in the interval; and what the thread pool's calls cost in it ({@link PoolStats}).
     */
    public record Split(double total, double gemm, double attention, double otherKernels, double untimed,
                        double quantize, long gemmFlops, double allocation, double gc, Map<String, Double> otherByKind,
                        PoolStats pool) {
        /** The time outside GEMM and attention. */
        public double rest() {
            return otherKernels + untimed;
        }

        /** GEMM throughput in GFLOP/s (GOP/s for integer layers). */
        public double gemmGflops() {
            return gemm > 0 ? gemmFlops / gemm / 1e9 : 0;
        }

        /** Component-wise mean of several intervals. */
        public static Split mean(java.util.List<Split> splits) {
            double t = 0, g = 0, a = 0, o = 0, u = 0, q = 0, al = 0, gc = 0;
            long f = 0;
            Map<String, Double> byKind = new LinkedHashMap<>();
            PoolStats pool = PoolStats.NONE;
            for (Split s : splits) {
                pool = pool.plus(s.pool);
                s.otherByKind.forEach((k, v) -> byKind.merge(k, v, Double::sum));
                al += s.allocation;
                gc += s.gc;
                f += s.gemmFlops;
                t += s.total;
                g += s.gemm;
                a += s.attention;
                o += s.otherKernels;
                u += s.untimed;
                q += s.quantize;
            }
            int n = Math.max(1, splits.size());
            byKind.replaceAll((k, v) -> v / n);
            return new Split(t / n, g / n, a / n, o / n, u / n, q / n, f / n, al / n, gc / n, byKind, pool.dividedBy(n));
        }
    }
}
