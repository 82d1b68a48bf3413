package dev.viditq.bench.profile;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.GroupStrides;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link Kernels} decorator that adds up the wall time of attention calls, and of the norm / activation /
 * elementwise / convolution calls (per kind, {@link Other}), around the real kernels. {@code gemm} is passed through
 * untimed: weight matrix products are timed per {@link dev.viditq.nn.layers.Linear} by {@link TimingExecutor} (which also covers
 * quantized executors that never reach these kernels), and so are the kernels a Linear's executor calls itself (an MLP's
 * GELU pass): those are not counted here. Installed only while benchmarking ({@link StepProfiler}).
 *
 * <p>Times are summed as seen by the calling thread; the models call kernels from one thread at a time (the kernels
 * parallelise inside), so the sums are wall time.
 */
final class TimingKernels implements Kernels {
    private final Kernels inner;
    final LongAdder attentionNanos = new LongAdder();
    private final LongAdder[] otherNanos = new LongAdder[Other.values().length];

    /** The kernels that are neither GEMM nor attention, each timed on its own (GELU: tanh and erf forms). */
    enum Other {
        LAYER_NORM, RMS_NORM, GROUP_NORM, MODULATE, NORM_MODULATE, GATED_ADD, INDEXED_ADD, GELU, SILU, SOFTMAX, ADD, MUL, CONV2D;

        /** The name in the split of {@code bench e2e} (JSON key {@code other_kernels.<name>}). */
        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    TimingKernels(Kernels inner) {
        this.inner = inner;
        for (int i = 0; i < otherNanos.length; i++) otherNanos[i] = new LongAdder();
    }

    /** Nanoseconds so far in each {@link Other} kernel, by ordinal. */
    long[] otherNanosByKind() {
        long[] n = new long[otherNanos.length];
        for (int i = 0; i < n.length; i++) n[i] = otherNanos[i].sum();
        return n;
    }

    /** Adds the time since t0 to {@code kind}, unless a timed Linear called the kernel (its time counts there). */
    private void timed(Other kind, long t0) {
        if (!InsideLinear.active()) otherNanos[kind.ordinal()].add(System.nanoTime() - t0);
    }

    private void timedAttention(long t0) {
        if (!InsideLinear.active()) attentionNanos.add(System.nanoTime() - t0);
    }

    Kernels inner() {
        return inner;
    }

    @Override
    public String name() {
        return inner.name() + " (timed)";
    }

    @Override
    public void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        inner.gemm(x, m, k, w, bias, out);
    }

    @Override
    public void gemmOnce(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        inner.gemmOnce(x, m, k, w, bias, out);
    }

    @Override
    public void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                          MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                          AttentionBias bias) {
        long t0 = System.nanoTime();
        inner.attention(q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads, headDim, scale, bias);
        timedAttention(t0);
    }

    @Override
    public boolean attendsInterleavedGroupsInPlace() {
        return inner.attendsInterleavedGroupsInPlace();
    }

    @Override
    public void attentionGroups(int groups, GroupStrides between, MemorySegment q, int qStride, MemorySegment k,
                                int kStride, MemorySegment v, int vStride, MemorySegment out, int oStride, int lq,
                                int lk, int heads, int headDim, float scale, AttentionBias bias) {
        long t0 = System.nanoTime();   // the groups as one call: run in parallel, their own times would overlap
        inner.attentionGroups(groups, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads, headDim,
                scale, bias);
        timedAttention(t0);
    }

    @Override
    public void layerNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        long t0 = System.nanoTime();
        inner.layerNorm(x, rows, dim, gamma, beta, eps, out);
        timed(Other.LAYER_NORM, t0);
    }

    @Override
    public void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, float eps, MemorySegment out) {
        long t0 = System.nanoTime();
        inner.rmsNorm(x, rows, dim, gamma, eps, out);
        timed(Other.RMS_NORM, t0);
    }

    @Override
    public void groupNorm(MemorySegment x, int channels, int spatial, int groups, MemorySegment gamma, MemorySegment beta,
                          float eps, MemorySegment out) {
        long t0 = System.nanoTime();
        inner.groupNorm(x, channels, spatial, groups, gamma, beta, eps, out);
        timed(Other.GROUP_NORM, t0);
    }

    @Override
    public void affineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float[] mul, float[] add) {
        long t0 = System.nanoTime();
        inner.affineRows(x, rowFrom, rowTo, dim, mul, add);
        timed(Other.MODULATE, t0);
    }

    @Override
    public void layerNormAffineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float eps, float[] mul, float[] add,
                                    MemorySegment out) {
        long t0 = System.nanoTime();
        inner.layerNormAffineRows(x, rowFrom, rowTo, dim, eps, mul, add, out);
        timed(Other.NORM_MODULATE, t0);
    }

    @Override
    public void gatedAddRows(MemorySegment residual, MemorySegment y, int rowFrom, int rowTo, int dim, float[] gate) {
        long t0 = System.nanoTime();
        inner.gatedAddRows(residual, y, rowFrom, rowTo, dim, gate);
        timed(Other.GATED_ADD, t0);
    }

    @Override
    public void affineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float[][] mul, float[][] add) {
        long t0 = System.nanoTime();
        inner.affineRowsPerSample(x, rowsPerSample, dim, mul, add);
        timed(Other.MODULATE, t0);
    }

    @Override
    public void layerNormAffineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float eps, float[][] mul,
                                             float[][] add, MemorySegment out) {
        long t0 = System.nanoTime();
        inner.layerNormAffineRowsPerSample(x, rowsPerSample, dim, eps, mul, add, out);
        timed(Other.NORM_MODULATE, t0);
    }

    @Override
    public void gatedAddRowsPerSample(MemorySegment residual, MemorySegment y, int rowsPerSample, int dim, float[][] gate) {
        long t0 = System.nanoTime();
        inner.gatedAddRowsPerSample(residual, y, rowsPerSample, dim, gate);
        timed(Other.GATED_ADD, t0);
    }

    @Override
    public void addIndexedRows(MemorySegment x, int dim, float[] table, int[] index) {
        long t0 = System.nanoTime();
        inner.addIndexedRows(x, dim, table, index);
        timed(Other.INDEXED_ADD, t0);
    }

    @Override
    public void geluTanh(MemorySegment x, long n) {
        long t0 = System.nanoTime();
        inner.geluTanh(x, n);
        timed(Other.GELU, t0);
    }

    @Override
    public void geluErf(MemorySegment x, long n) {
        long t0 = System.nanoTime();
        inner.geluErf(x, n);
        timed(Other.GELU, t0);
    }

    @Override
    public void silu(MemorySegment x, long n) {
        long t0 = System.nanoTime();
        inner.silu(x, n);
        timed(Other.SILU, t0);
    }

    @Override
    public void softmax(MemorySegment x, int rows, int cols) {
        long t0 = System.nanoTime();
        inner.softmax(x, rows, cols);
        timed(Other.SOFTMAX, t0);
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        long t0 = System.nanoTime();
        inner.add(a, b, out, n);
        timed(Other.ADD, t0);
    }

    @Override
    public void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        long t0 = System.nanoTime();
        inner.mul(a, b, out, n);
        timed(Other.MUL, t0);
    }

    @Override
    public void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                       MemorySegment out) {
        long t0 = System.nanoTime();
        inner.conv2d(x, cin, h, w, weight, bias, stride, padding, out);
        timed(Other.CONV2D, t0);
    }
}
