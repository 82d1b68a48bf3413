package dev.viditq.core.kernels;

import dev.viditq.core.kernels.quant.NativeMatrix;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The float kernels in {@link Precision#BF16}: GEMMs and attention as bf16 × bf16 with FP32 accumulation on a
 * matrix unit of the CPU ({@link NativeMatrix}: AMX-BF16 or AVX512-BF16; attention with an FP32 online softmax);
 * every other kernel is the FP32 one it wraps (norms, softmax, element-wise, convolutions).
 *
 * <p>Each weight is rounded to bf16 and packed into the unit's panel layout the first time it is multiplied, and
 * kept while the weight tensor lives (a weak map keyed by the tensor object: the layers hold their weights for
 * the model's lifetime, so this is once per load); {@link #gemmOnce} packs for the call only. Weights must not be
 * modified in place after their first use.
 */
public final class Bf16Kernels implements Kernels {
    private final NativeMatrix engines;
    private final NativeMatrix.Unit unit;
    private final Kernels fp32;
    private final Map<Tensor, NativeMatrix.PackedBf16> packed = Collections.synchronizedMap(new WeakHashMap<>());

    public Bf16Kernels(NativeMatrix engines, NativeMatrix.Unit unit, Kernels fp32) {
        if (!engines.has(unit)) throw new IllegalArgumentException(unit + " does not run on this CPU");
        this.engines = engines;
        this.unit = unit;
        this.fp32 = fp32;
    }

    public NativeMatrix.Unit unit() {
        return unit;
    }

    @Override
    public String name() {
        return "bf16 on " + unit.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
                + " (bf16 x bf16 -> fp32 GEMMs and attention; else " + fp32.name() + ")";
    }

    @Override
    public void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        int n = Gemm.check(x, m, k, w, bias, out);
        if (m == 0 || n == 0) return;
        engines.gemm(unit, x, m, k, packedFor(w), bias, out);
    }

    /**
     * Packs {@code w} for this call only, into memory freed when the call returns (packing already gives a mapped
     * weight's pages back), unless a {@link #gemm} has kept a packed copy of it.
     */
    @Override
    public void gemmOnce(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        int n = Gemm.check(x, m, k, w, bias, out);
        if (m == 0 || n == 0) return;
        NativeMatrix.PackedBf16 kept = packed.get(w);
        if (kept != null) {
            engines.gemm(unit, x, m, k, kept, bias, out);
            return;
        }
        try (Arena callOnly = Arena.ofShared()) {   // shared: the pool's threads write the panels
            engines.gemm(unit, x, m, k, engines.pack(w, callOnly), bias, out);
        }
    }

    /** How many weights have a packed copy kept (for tests). */
    int keptPackedWeights() {
        return packed.size();
    }

    /** The packed form of {@code w}, made on first use. Two threads may both pack a new weight; one copy is kept. */
    NativeMatrix.PackedBf16 packedFor(Tensor w) {
        NativeMatrix.PackedBf16 p = packed.get(w);
        if (p == null) {
            NativeMatrix.PackedBf16 made = engines.pack(w);
            synchronized (packed) {
                p = packed.putIfAbsent(w, made);
                if (p == null) p = made;
            }
        }
        return p;
    }

    @Override
    public void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                          MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                          AttentionBias bias) {
        attentionGroups(1, GroupStrides.consecutive(lq, lk, qStride, kStride, vStride, oStride), q, qStride, k, kStride,
                v, vStride, out, oStride, lq, lk, heads, headDim, scale, bias);
    }

    /** The groups' heads are tasks of the pool, wherever the groups lie. */
    @Override
    public boolean attendsInterleavedGroupsInPlace() {
        return true;
    }

    /** The groups' heads together in the native kernel's pool calls (see {@link NativeMatrix#attentionGroups}). */
    @Override
    public void attentionGroups(int groups, GroupStrides between, MemorySegment q, int qStride, MemorySegment k,
                                int kStride, MemorySegment v, int vStride, MemorySegment out, int oStride, int lq,
                                int lk, int heads, int headDim, float scale, AttentionBias bias) {
        AttentionBias b = bias == null ? AttentionBias.NONE : bias;
        // empty key sets and head dimensions past the native limit stay on the FP32 kernel
        if (lk < 1 || !engines.runsAttention(unit, headDim)) {
            fp32.attentionGroups(groups, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads, headDim,
                    scale, b);
            return;
        }
        AttentionGroups.checkCount(groups);
        if (groups == 0) return;
        Gemm.need(q, GroupStrides.extent(groups, between.q(), lq, qStride, heads, headDim, "q"), "attention q");
        Gemm.need(k, GroupStrides.extent(groups, between.k(), lk, kStride, heads, headDim, "k"), "attention k");
        Gemm.need(v, GroupStrides.extent(groups, between.v(), lk, vStride, heads, headDim, "v"), "attention v");
        Gemm.need(out, GroupStrides.extent(groups, between.out(), lq, oStride, heads, headDim, "out"), "attention out");
        if (b.perKey() != null) Gemm.need(b.perKey(), lk, "attention per-key bias [" + lk + "]");
        if (b.perHead() != null) Gemm.need(b.perHead(), (long) heads * lq * lk, "attention per-head bias [" + heads + ", " + lq + ", " + lk + "]");
        engines.attentionGroups(unit, groups, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads,
                headDim, scale, b.perKey(), b.perHead());
    }

    @Override
    public void layerNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        fp32.layerNorm(x, rows, dim, gamma, beta, eps, out);
    }

    @Override
    public void layerNormAffineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float eps, float[] mul, float[] add,
                                    MemorySegment out) {
        fp32.layerNormAffineRows(x, rowFrom, rowTo, dim, eps, mul, add, out);
    }

    @Override
    public void layerNormAffineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float eps, float[][] mul,
                                             float[][] add, MemorySegment out) {
        fp32.layerNormAffineRowsPerSample(x, rowsPerSample, dim, eps, mul, add, out);
    }

    @Override
    public void affineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float[][] mul, float[][] add) {
        fp32.affineRowsPerSample(x, rowsPerSample, dim, mul, add);
    }

    @Override
    public void gatedAddRowsPerSample(MemorySegment residual, MemorySegment y, int rowsPerSample, int dim, float[][] gate) {
        fp32.gatedAddRowsPerSample(residual, y, rowsPerSample, dim, gate);
    }

    @Override
    public void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, float eps, MemorySegment out) {
        fp32.rmsNorm(x, rows, dim, gamma, eps, out);
    }

    @Override
    public void groupNorm(MemorySegment x, int channels, int spatial, int groups, MemorySegment gamma, MemorySegment beta,
                          float eps, MemorySegment out) {
        fp32.groupNorm(x, channels, spatial, groups, gamma, beta, eps, out);
    }

    /** Native on AVX-512 where it runs (the same bits as the Java pass, which needs JIT warm-up first). */
    @Override
    public void geluTanh(MemorySegment x, long n) {
        if (!engines.has(NativeMatrix.Unit.AVX512_BF16)) {
            fp32.geluTanh(x, n);
            return;
        }
        Gemm.need(x, n, "geluTanh [" + n + "]");
        engines.geluTanh(x, n);
    }

    @Override
    public void geluErf(MemorySegment x, long n) {
        fp32.geluErf(x, n);
    }

    @Override
    public void silu(MemorySegment x, long n) {
        fp32.silu(x, n);
    }

    @Override
    public void softmax(MemorySegment x, int rows, int cols) {
        fp32.softmax(x, rows, cols);
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        fp32.add(a, b, out, n);
    }

    @Override
    public void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        fp32.mul(a, b, out, n);
    }

    @Override
    public void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                       MemorySegment out) {
        fp32.conv2d(x, cin, h, w, weight, bias, stride, padding, out);
    }
}
