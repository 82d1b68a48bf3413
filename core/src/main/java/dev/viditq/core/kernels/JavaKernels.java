package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The float kernels in pure Java with the Vector API, multi-threaded through {@link Parallel}. Matrix products
 * (GEMM, attention, convolution) run on the register tile of {@link MicroKernel}; see {@link Gemm},
 * {@link FlashAttention}, {@link Conv2d}. Element-wise and row-wise kernels are here: one vector loop each plus a
 * masked last step, split over threads in chunks of {@link #CHUNK} elements or whole rows.
 * Accuracy: float arithmetic throughout, within a few ulps of {@link ScalarKernels} per element for the
 * element-wise kernels; sums over a row or k are float sums in vector lanes.
 */
public final class JavaKernels implements Kernels {
    private static final VectorSpecies<Float> S = MicroKernel.S;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Elements per task: 64 KiB of floats, far above the cost of handing out a task. */
    private static final int CHUNK = 16384;
    /** At most this many floats: an element-wise activation runs its scalar twin (ScalarTwins), not the vector loop. */
    private static final int SMALL = 4096;

    static {
        // the hot Vector API loops; drivers called a few times per kernel call (the forChunks/forRows lambdas,
        // Gemm.panel, packPanel, ...) keep the normal tiers: without C1 they would stay interpreted for long
        JitDirectives.c2Only(MicroKernel.class, "*");
        JitDirectives.c2Only(Transpose16.class, "*");
        JitDirectives.c2Only(VectorMath.class, "*");
        JitDirectives.c2Only(WeightRows.class, "widenBf16", "widenF16");
        JitDirectives.c2Only(SmallGemm.class, "dot");
        JitDirectives.c2Only(FlashAttention.class, "softmaxColumns", "columnMax");
        JitDirectives.c2Only(JavaKernels.class, "lambda$gelu*", "lambda$silu*", "lambda$add*", "lambda$mul*",
                "layerNormRow", "layerNormAffineRow", "rmsNormRow", "scaleShift", "max", "expMinusMaxInPlace", "sum", "sumOfSquares",
                "centredSumOfSquares");
    }

    /**
     * Null when this JVM can run these kernels, else why not (the caller falls back to {@link ScalarKernels}
     * and says so). Needs a preferred vector of at least 4 floats: below that the Vector API runs as slow Java.
     */
    public static String unsupportedReason() {
        int lanes = VectorWidth.FLOATS.length();
        if (lanes < 4) return "the float vector here holds " + lanes + " lane(s); the Vector API would not be faster than scalar";
        return null;
    }

    @Override
    public String name() {
        return "java-vector (" + S.vectorBitSize() + "-bit, " + L + " float lanes)";
    }

    @Override
    public void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        Gemm.gemm(x, m, k, w, bias, out);
    }

    /** Groups are tasks of the pool (or their heads are, in turn), wherever the groups lie. */
    @Override
    public boolean attendsInterleavedGroupsInPlace() {
        return true;
    }

    @Override
    public void attentionGroups(int groups, GroupStrides between, MemorySegment q, int qStride, MemorySegment k,
                                int kStride, MemorySegment v, int vStride, MemorySegment out, int oStride, int lq,
                                int lk, int heads, int headDim, float scale, AttentionBias bias) {
        AttentionGroups.onThreads(this, groups, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads,
                headDim, scale, bias);
    }

    @Override
    public void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                          MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                          AttentionBias bias) {
        FlashAttention.attention(q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads, headDim, scale,
                bias == null ? AttentionBias.NONE : bias);
    }

    @Override
    public void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                       MemorySegment out) {
        Conv2d.conv2d(x, cin, h, w, weight, bias, stride, padding, out);
    }

    // ---- row-wise kernels ----
    // Every loop is an unmasked vector loop plus one masked step for the tail: masked loads and stores on every
    // step cost 1.5-3× here.

    @Override
    public void layerNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        checkRows(x, out, rows, dim, "layerNorm");
        forRows(rows, dim, r -> layerNormRow(x, (long) r * dim * Float.BYTES, dim, gamma, beta, eps, out));
    }

    /** Mean, then the variance around it (two passes: no cancellation), then the output; the row stays in L1. */
    private static void layerNormRow(MemorySegment x, long base, int dim, MemorySegment gamma, MemorySegment beta, float eps,
                                     MemorySegment out) {
        float mean = sum(x, base, dim) / dim;
        float inv = inverseStd(x, base, dim, mean, eps);
        int i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector y = normalized(x, base, i, mean, inv);
            if (gamma != null) y = y.mul(load(gamma, 0, i));
            if (beta != null) y = y.add(load(beta, 0, i));
            y.intoMemorySegment(out, base + (long) i * Float.BYTES, LE);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector y = normalized(x, base, i, m, mean, inv);
            if (gamma != null) y = y.mul(load(gamma, 0, i, m));
            if (beta != null) y = y.add(load(beta, 0, i, m));
            y.intoMemorySegment(out, base + (long) i * Float.BYTES, LE, m);
        }
    }

    @Override
    public void affineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float[][] mul, float[][] add) {
        RowKernels.affineRowsPerSample(x, rowsPerSample, dim, mul, add);
    }

    @Override
    public void gatedAddRowsPerSample(MemorySegment residual, MemorySegment y, int rowsPerSample, int dim, float[][] gate) {
        RowKernels.gatedAddRowsPerSample(residual, y, rowsPerSample, dim, gate);
    }

    /** One pass per row: the normalisation as {@link #layerNormRow} computes it, then the modulation's fma in register. */
    @Override
    public void layerNormAffineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float eps, float[] mul, float[] add,
                                    MemorySegment out) {
        layerNormAffineRows(x, rowFrom, rowTo, Math.max(1, rowTo - rowFrom), dim, eps, new float[][]{mul}, new float[][]{add}, out);
    }

    /** {@link #layerNormAffineRows} of every sample in one pool call. */
    @Override
    public void layerNormAffineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float eps, float[][] mul,
                                             float[][] add, MemorySegment out) {
        layerNormAffineRows(x, 0, Math.multiplyExact(mul.length, rowsPerSample), rowsPerSample, dim, eps, mul, add, out);
    }

    /** Rows [rowFrom, rowTo), row r modulated by the vectors of index (r - rowFrom) / rowsPerVector. */
    private void layerNormAffineRows(MemorySegment x, int rowFrom, int rowTo, int rowsPerVector, int dim, float eps,
                                     float[][] mul, float[][] add, MemorySegment out) {
        RowKernels.checkVectors(mul, dim, rowFrom, rowTo, rowsPerVector, "layerNormAffineRows: mul");
        RowKernels.checkVectors(add, dim, rowFrom, rowTo, rowsPerVector, "layerNormAffineRows: add");
        checkRows(x, out, rowTo, dim, "layerNormAffineRows");
        if (rowTo <= rowFrom) return;
        forRows(rowTo - rowFrom, dim, r -> layerNormAffineRow(x, (long) (rowFrom + r) * dim * Float.BYTES, dim, eps,
                mul[r / rowsPerVector], add[r / rowsPerVector], out));
    }

    private static void layerNormAffineRow(MemorySegment x, long base, int dim, float eps, float[] mul, float[] add,
                                           MemorySegment out) {
        float mean = sum(x, base, dim) / dim;
        float inv = inverseStd(x, base, dim, mean, eps);
        int i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector y = normalized(x, base, i, mean, inv);
            y.fma(FloatVector.fromArray(S, mul, i), FloatVector.fromArray(S, add, i)).intoMemorySegment(out, base + (long) i * Float.BYTES, LE);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector y = normalized(x, base, i, m, mean, inv);
            y.fma(FloatVector.fromArray(S, mul, i, m), FloatVector.fromArray(S, add, i, m))
                    .intoMemorySegment(out, base + (long) i * Float.BYTES, LE, m);
        }
    }

    /** (x[i, i + L) - mean) · inv: the LayerNorm rows' normalisation, with or without their own parameters after it. */
    private static FloatVector normalized(MemorySegment x, long base, int i, float mean, float inv) {
        return load(x, base, i).sub(mean).mul(inv);
    }

    private static FloatVector normalized(MemorySegment x, long base, int i, VectorMask<Float> m, float mean, float inv) {
        return load(x, base, i, m).sub(mean).mul(inv);
    }

    /** 1 / sqrt(variance + eps) of the row at base, its variance taken around its mean. */
    private static float inverseStd(MemorySegment x, long base, int dim, float mean, float eps) {
        return (float) (1.0 / Math.sqrt(centredSumOfSquares(x, base, dim, mean) / dim + eps));
    }

    @Override
    public void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, float eps, MemorySegment out) {
        checkRows(x, out, rows, dim, "rmsNorm");
        forRows(rows, dim, r -> rmsNormRow(x, (long) r * dim * Float.BYTES, dim, gamma, eps, out));
    }

    private static void rmsNormRow(MemorySegment x, long base, int dim, MemorySegment gamma, float eps, MemorySegment out) {
        float inv = (float) (1.0 / Math.sqrt(sumOfSquares(x, base, dim) / dim + eps));
        int i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector y = load(x, base, i).mul(inv);
            if (gamma != null) y = y.mul(load(gamma, 0, i));
            y.intoMemorySegment(out, base + (long) i * Float.BYTES, LE);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector y = load(x, base, i, m).mul(inv);
            if (gamma != null) y = y.mul(load(gamma, 0, i, m));
            y.intoMemorySegment(out, base + (long) i * Float.BYTES, LE, m);
        }
    }

    @Override
    public void groupNorm(MemorySegment x, int channels, int spatial, int groups, MemorySegment gamma, MemorySegment beta,
                          float eps, MemorySegment out) {
        if (groups <= 0 || channels % groups != 0) throw new IllegalArgumentException(channels + " channels in " + groups + " groups");
        checkRows(x, out, channels, spatial, "groupNorm");
        int per = channels / groups;
        long count = (long) per * spatial;
        if (count > Integer.MAX_VALUE) throw new IllegalArgumentException("groupNorm group of " + count + " elements is too large");
        Parallel.forEach(groups, g -> {
            long base = (long) g * per * spatial * Float.BYTES;
            float mean = sum(x, base, (int) count) / count;
            float var = centredSumOfSquares(x, base, (int) count, mean) / count;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            for (int c = g * per; c < (g + 1) * per; c++) {
                float scale = inv * (gamma == null ? 1f : gamma.getAtIndex(Tensor.F32_LE, c));
                float shift = (beta == null ? 0f : beta.getAtIndex(Tensor.F32_LE, c)) - mean * scale;
                scaleShift(x, (long) c * spatial * Float.BYTES, spatial, scale, shift, out);
            }
        });
    }

    /** out = x·scale + shift over n floats from byte offset base. */
    private static void scaleShift(MemorySegment x, long base, int n, float scale, float shift, MemorySegment out) {
        int i = 0;
        for (; i <= n - L; i += L) load(x, base, i).fma(scale, shift).intoMemorySegment(out, base + (long) i * Float.BYTES, LE);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            load(x, base, i, m).fma(scale, shift).intoMemorySegment(out, base + (long) i * Float.BYTES, LE, m);
        }
    }

    @Override
    public void softmax(MemorySegment x, int rows, int cols) {
        checkRows(x, x, rows, cols, "softmax");
        forRows(rows, cols, r -> softmaxRow(x, (long) r * cols * Float.BYTES, cols));
    }

    private static void softmaxRow(MemorySegment x, long base, int cols) {
        float max = max(x, base, cols);
        float inv = 1f / expMinusMaxInPlace(x, base, cols, max);
        scaleShift(x, base, cols, inv, 0f, x);
    }

    private static float max(MemorySegment x, long base, int n) {
        FloatVector max = VectorMath.negativeInfinities();
        int i = 0;
        for (; i <= n - L; i += L) max = load(x, base, i).max(max);
        float m = max.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, x.get(Tensor.F32_LE, base + (long) i * Float.BYTES));
        return m;
    }

    /** x = e^(x - max) in place; returns the sum. The tail is scalar, so exp is inlined once. */
    private static float expMinusMaxInPlace(MemorySegment x, long base, int n, float max) {
        FloatVector sum = VectorMath.zeros();
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = VectorMath.exp(load(x, base, i).sub(max));
            e.intoMemorySegment(x, base + (long) i * Float.BYTES, LE);
            sum = e.add(sum);
        }
        float total = VectorMath.sumLanes(sum);
        for (; i < n; i++) {
            long at = base + (long) i * Float.BYTES;
            float e = (float) Math.exp(x.get(Tensor.F32_LE, at) - max);
            x.set(Tensor.F32_LE, at, e);
            total += e;
        }
        return total;
    }

    // ---- element-wise kernels ----
    // Each activation has its own loops: a shared loop taking the function as a lambda would make the call
    // megamorphic, C2 would stop inlining it, and every vector would be boxed on the heap. The exp is inlined
    // twice (main loop and tail), which fits C2's budget for these small loops.

    @Override
    public void geluTanh(MemorySegment x, long n) {
        checkLength(n, "geluTanh", x);
        forChunks(n, (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) VectorMath.geluTanh(load(x, i * 4)).intoMemorySegment(x, i * 4, LE);
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                VectorMath.geluTanh(load(x, i * 4, m)).intoMemorySegment(x, i * 4, LE, m);
            }
        });
    }

    @Override
    public void geluErf(MemorySegment x, long n) {
        checkLength(n, "geluErf", x);
        forChunks(n, (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) VectorMath.geluErf(load(x, i * 4)).intoMemorySegment(x, i * 4, LE);
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                VectorMath.geluErf(load(x, i * 4, m)).intoMemorySegment(x, i * 4, LE, m);
            }
        });
    }

    @Override
    public void silu(MemorySegment x, long n) {
        checkLength(n, "silu", x);
        if (n <= SMALL) {   // the same bits one float at a time (ScalarTwins: why)
            for (long i = 0; i < n; i++) x.setAtIndex(Tensor.F32_LE, i, ScalarTwins.silu(x.getAtIndex(Tensor.F32_LE, i)));
            return;
        }
        forChunks(n, (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) VectorMath.silu(load(x, i * 4)).intoMemorySegment(x, i * 4, LE);
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                VectorMath.silu(load(x, i * 4, m)).intoMemorySegment(x, i * 4, LE, m);
            }
        });
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        checkLength(n, "add", a, b, out);
        forChunks(n, (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) load(a, i * 4).add(load(b, i * 4)).intoMemorySegment(out, i * 4, LE);
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                load(a, i * 4, m).add(load(b, i * 4, m)).intoMemorySegment(out, i * 4, LE, m);
            }
        });
    }

    @Override
    public void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        checkLength(n, "mul", a, b, out);
        forChunks(n, (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) load(a, i * 4).mul(load(b, i * 4)).intoMemorySegment(out, i * 4, LE);
            if (i < to) {
                VectorMask<Float> m = S.indexInRange(i, to);
                load(a, i * 4, m).mul(load(b, i * 4, m)).intoMemorySegment(out, i * 4, LE, m);
            }
        });
    }

    // ---- helpers ----

    private interface Range {
        void run(long from, long to);
    }

    /** Splits [0, n) into chunks of CHUNK (a multiple of the lane count) over the threads. */
    private static void forChunks(long n, Range body) {
        long chunks = (n + CHUNK - 1) / CHUNK;
        if (chunks > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " elements");
        Parallel.forEach((int) chunks, c -> body.run((long) c * CHUNK, Math.min(n, (long) (c + 1) * CHUNK)));
    }

    /** Runs body(row) for every row, a task taking enough rows to be about CHUNK elements. */
    private static void forRows(int rows, int rowLength, java.util.function.IntConsumer body) {
        int perTask = Math.max(1, CHUNK / Math.max(1, rowLength));
        int tasks = (rows + perTask - 1) / perTask;
        Parallel.forEach(tasks, t -> {
            for (int r = t * perTask, end = Math.min(rows, r + perTask); r < end; r++) body.accept(r);
        });
    }

    private static FloatVector load(MemorySegment s, long byteOffset) {
        return FloatVector.fromMemorySegment(S, s, byteOffset, LE);
    }

    private static FloatVector load(MemorySegment s, long byteOffset, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, byteOffset, LE, m);
    }

    private static FloatVector load(MemorySegment s, long base, int i) {
        return FloatVector.fromMemorySegment(S, s, base + (long) i * Float.BYTES, LE);
    }

    private static FloatVector load(MemorySegment s, long base, int i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, base + (long) i * Float.BYTES, LE, m);
    }

    // Accumulators start from VectorMath.zeros() and each step is called on the freshly loaded vector, so that
    // C2 knows every receiver's exact vector class (see VectorMath.zeros).

    private static float sum(MemorySegment x, long base, int n) {
        FloatVector acc = VectorMath.zeros();
        int i = 0;
        for (; i <= n - L; i += L) acc = load(x, base, i).add(acc);
        if (i < n) acc = load(x, base, i, S.indexInRange(i, n)).add(acc);   // masked lanes load as 0
        return VectorMath.sumLanes(acc);
    }

    private static float sumOfSquares(MemorySegment x, long base, int n) {
        FloatVector acc = VectorMath.zeros();
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = load(x, base, i);
            acc = v.fma(v, acc);
        }
        if (i < n) {
            FloatVector v = load(x, base, i, S.indexInRange(i, n));
            acc = v.fma(v, acc);
        }
        return VectorMath.sumLanes(acc);
    }

    private static float centredSumOfSquares(MemorySegment x, long base, int n, float mean) {
        FloatVector acc = VectorMath.zeros();
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector d = load(x, base, i).sub(mean);
            acc = d.fma(d, acc);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector d = load(x, base, i, m).sub(mean).blend(0f, m.not());
            acc = d.fma(d, acc);
        }
        return VectorMath.sumLanes(acc);
    }

    private static void checkRows(MemorySegment x, MemorySegment out, int rows, int dim, String what) {
        Gemm.need(x, (long) rows * dim, what + " input [" + rows + ", " + dim + "]");
        Gemm.need(out, (long) rows * dim, what + " output [" + rows + ", " + dim + "]");
    }

    private static void checkLength(long n, String what, MemorySegment... segments) {
        for (MemorySegment s : segments) Gemm.need(s, n, what + " of " + n + " elements");
    }
}
