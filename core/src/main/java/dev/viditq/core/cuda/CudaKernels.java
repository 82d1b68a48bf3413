package dev.viditq.core.cuda;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.Precision;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The float kernels on an NVIDIA GPU: GEMMs and attention's two products on cuBLASLt, the rest on viditq's own
 * kernels. Activations are the pool's managed memory, so the model code hands over the same segments it would
 * give the CPU kernels and nothing moves; weights are copied to the device once, at their first use, as FP32
 * (FP32 mode) or BF16 (BF16 mode). In BF16 mode, GEMM and attention inputs are rounded to BF16 and accumulate in
 * FP32 (as the CPU's BF16 mode), everything else is FP32. GroupNorm and conv2d (the VAE, the patch embedding) run
 * on the CPU kernels, on the same memory.
 */
public final class CudaKernels implements Kernels {
    private static final int ROW_THREADS = 256;

    private final CudaDevice device;
    private final CublasLt lt;
    private final DeviceMemory memory;
    private final boolean bf16;
    private final Kernels cpu;
    /** Device copies of weights, by tensor identity (a weight tensor lives as long as its model). */
    private final Map<Tensor, Long> weights;
    /** Device copies of constant tables (positional embeddings), by array identity. */
    private final Map<float[], Long> tables = new WeakHashMap<>();

    /**
     * @param precision FP32, or BF16 (AUTO means BF16: the tensor cores)
     * @param cpu       the CPU kernels for what runs there
     * @param weights   device weights of this precision made so far ({@link #weightCache()}), kept across instances
     */
    public CudaKernels(CudaDevice device, CublasLt lt, DeviceMemory memory, Precision precision, Kernels cpu,
                       Map<Tensor, Long> weights) {
        this.device = device;
        this.lt = lt;
        this.memory = memory;
        this.bf16 = precision != Precision.FP32;
        this.cpu = cpu;
        this.weights = weights;
    }

    /** A cache of device weights for the kernels of one precision (weights per tensor identity). */
    public static Map<Tensor, Long> weightCache() {
        return Collections.synchronizedMap(new WeakHashMap<>());
    }

    @Override
    public String name() {
        return "cuda " + (bf16 ? "bf16" : "fp32") + " (" + device.name() + ", " + lt.library() + ")";
    }

    private DeviceCall call() {
        return new DeviceCall(device, memory);
    }

    @Override
    public void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        int n = w.size(0);
        if (w.size(1) != k) throw new IllegalArgumentException("gemm: weight " + w + " does not take k = " + k);
        if (m == 0) return;
        try (DeviceCall c = call()) {
            long wp = weight(c, w);
            long xp = c.in(x, (long) m * k * Float.BYTES);
            long bp = c.in(bias, (long) n * Float.BYTES);
            long op = c.out(out, (long) m * n * Float.BYTES);
            int type = CublasLt.R_32F;
            if (bf16) {
                long xb = c.scratch("x-bf16", (long) m * k * 2);
                c.device().launch("to_bf16", c.grid((long) m * k), 256, 0, xp, (long) k, xb, m, k);
                xp = xb;
                type = CublasLt.R_16BF;
            }
            // row-major out[m, n] = x[m, k]·w[n, k]ᵀ is column-major outᵀ (n×m) = wᵀ-as-stored (T) · xᵀ-as-stored (N)
            lt.matmul(new CublasLt.Shape(type, CublasLt.R_32F, CublasLt.COMPUTE_32F, true, false, n, m, k, k, k, n,
                    1, 0, 0, 0, bias != null), wp, xp, op, bp);
        }
    }

    /** The device copy of {@code w} in this precision, made at first use. */
    private long weight(DeviceCall c, Tensor w) {
        Long p = weights.get(w);
        if (p != null) return p;
        long n = w.numel();
        long dst = memory.residentWeight(n * (bf16 ? 2 : 4));
        long raw = c.in(w.data(), w.byteSize());
        switch (w.dtype()) {
            case F32 -> {
                if (bf16) device.launch("to_bf16", c.grid(n), 256, 0, raw, n, dst, 1, Math.toIntExact(n));
                else device.copy(dst, raw, n * 4);
            }
            case BF16, F16 -> {
                int kind = w.dtype() == DType.BF16 ? 0 : 1;
                if (bf16 && kind == 0) {
                    device.copy(dst, raw, n * 2);
                } else {
                    long f32 = bf16 ? c.scratch("weight-f32", n * 4) : dst;
                    device.launch("half_to_f32", c.grid(n), 256, 0, raw, f32, n, kind);
                    if (bf16) device.launch("to_bf16", c.grid(n), 256, 0, f32, n, dst, 1, Math.toIntExact(n));
                }
            }
            default -> throw new IllegalArgumentException("gemm weight must be F32, BF16 or F16, is " + w.dtype());
        }
        weights.put(w, dst);
        return dst;
    }

    @Override
    public void layerNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        if (rows == 0) return;
        try (DeviceCall c = call()) {
            long bytes = (long) rows * dim * Float.BYTES;
            long xp = x.address() == out.address() ? c.inOut(x, bytes) : c.in(x, bytes);
            long op = x.address() == out.address() ? xp : c.out(out, bytes);
            device.launch("layer_norm", rows, ROW_THREADS, 0, xp, op, c.in(gamma, dim * 4L), c.in(beta, dim * 4L), dim, eps);
        }
    }

    @Override
    public void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, float eps, MemorySegment out) {
        if (rows == 0) return;
        try (DeviceCall c = call()) {
            long bytes = (long) rows * dim * Float.BYTES;
            long xp = x.address() == out.address() ? c.inOut(x, bytes) : c.in(x, bytes);
            long op = x.address() == out.address() ? xp : c.out(out, bytes);
            device.launch("rms_norm", rows, ROW_THREADS, 0, xp, op, c.in(gamma, dim * 4L), dim, eps);
        }
    }

    @Override
    public void groupNorm(MemorySegment x, int channels, int spatial, int groups, MemorySegment gamma, MemorySegment beta,
                          float eps, MemorySegment out) {
        cpu.groupNorm(x, channels, spatial, groups, gamma, beta, eps, out);
    }

    @Override
    public void geluTanh(MemorySegment x, long n) {
        activation(x, n, 0);
    }

    @Override
    public void geluErf(MemorySegment x, long n) {
        activation(x, n, 1);
    }

    @Override
    public void silu(MemorySegment x, long n) {
        activation(x, n, 2);
    }

    private void activation(MemorySegment x, long n, int kind) {
        if (n == 0) return;
        try (DeviceCall c = call()) {
            device.launch("activation", c.grid(n), 256, 0, c.inOut(x, n * 4), n, kind);
        }
    }

    @Override
    public void softmax(MemorySegment x, int rows, int cols) {
        if (rows == 0) return;
        try (DeviceCall c = call()) {
            device.launch("softmax_rows", rows, ROW_THREADS, 0, c.inOut(x, (long) rows * cols * 4), cols);
        }
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        binary(a, b, out, n, 0);
    }

    @Override
    public void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        binary(a, b, out, n, 1);
    }

    private void binary(MemorySegment a, MemorySegment b, MemorySegment out, long n, int op) {
        if (n == 0) return;
        try (DeviceCall c = call()) {
            long bytes = n * 4;
            long ap = c.in(a, bytes), bp = c.in(b, bytes);
            device.launch("binary", c.grid(n), 256, 0, ap, bp, c.out(out, bytes), n, op);
        }
    }

    @Override
    public void affineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float[] mul, float[] add) {
        long n = (long) (rowTo - rowFrom) * dim;
        if (n <= 0) return;
        try (DeviceCall c = call()) {
            long xp = c.inOut(x.asSlice((long) rowFrom * dim * 4), n * 4);
            device.launch("affine_rows", c.grid(n), 256, 0, xp, n, dim, c.floats(mul), c.floats(add));
        }
    }

    @Override
    public void gatedAddRows(MemorySegment residual, MemorySegment y, int rowFrom, int rowTo, int dim, float[] gate) {
        long n = (long) (rowTo - rowFrom) * dim;
        if (n <= 0) return;
        try (DeviceCall c = call()) {
            long offset = (long) rowFrom * dim * 4;
            long rp = c.inOut(residual.asSlice(offset), n * 4);
            long yp = c.in(y.asSlice(offset), n * 4);
            device.launch("gated_add_rows", c.grid(n), 256, 0, rp, yp, n, dim, c.floats(gate));
        }
    }

    /**
     * Per head: S = Q·Kᵀ (one batched product over the heads, read in place through the row strides), the scaled
     * and biased softmax over S, O = P·V written in place. The score matrix [heads, lq, lk] is materialised in
     * device scratch (FP32): simple and exact, but memory-bound at long sequences.
     */
    @Override
    public void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                          MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                          AttentionBias bias) {
        if (lq == 0) return;
        int width = heads * headDim;
        try (DeviceCall c = call()) {
            long qp = c.in(q, span(lq, qStride, width)), kp = c.in(k, span(lk, kStride, width)), vp = c.in(v, span(lk, vStride, width));
            long op = c.inOut(out, span(lq, oStride, width)); // columns outside the heads are kept
            long scores = c.scratch("scores", (long) heads * lq * lk * 4);
            long perKey = bias.perKey() == null ? 0 : c.in(bias.perKey(), lk * 4L);
            long perHead = bias.perHead() == null ? 0 : c.in(bias.perHead(), (long) heads * lq * lk * 4);
            int type = CublasLt.R_32F;
            long probs = 0;
            if (bf16) {
                qp = toBf16(c, "q-bf16", qp, qStride, lq, width);
                kp = toBf16(c, "k-bf16", kp, kStride, lk, width);
                vp = toBf16(c, "v-bf16", vp, vStride, lk, width);
                qStride = kStride = vStride = width;
                probs = c.scratch("probs-bf16", (long) heads * lq * lk * 2);
                type = CublasLt.R_16BF;
            }
            // column-major: Sᵀ (lk×lq, per head) = K_h (stored headDim×lk, T) · Q_h (stored headDim×lq, N)
            lt.matmul(new CublasLt.Shape(type, CublasLt.R_32F, CublasLt.COMPUTE_32F, true, false, lk, lq, headDim,
                    kStride, qStride, lk, heads, headDim, headDim, (long) lq * lk, false), kp, qp, scores, 0);
            device.launch("attention_softmax", heads * lq, ROW_THREADS, 0, scores, probs, lk, scale, perKey, perHead);
            // Oᵀ (headDim×lq) = V_h (stored headDim×lk, N) · Pᵀ (stored lk×lq, N)
            lt.matmul(new CublasLt.Shape(type, CublasLt.R_32F, CublasLt.COMPUTE_32F, false, false, headDim, lq, lk,
                    vStride, lk, oStride, heads, headDim, (long) lq * lk, headDim, false), vp, bf16 ? probs : scores, op, 0);
        }
    }

    private static long span(int rows, int stride, int width) {
        return ((long) (rows - 1) * stride + width) * Float.BYTES;
    }

    private long toBf16(DeviceCall c, String slot, long src, int stride, int rows, int width) {
        long dst = c.scratch(slot, (long) rows * width * 2);
        device.launch("to_bf16", c.grid((long) rows * width), 256, 0, src, (long) stride, dst, rows, width);
        return dst;
    }

    @Override
    public void addIndexedRows(MemorySegment x, int dim, float[] table, int[] index) {
        long n = (long) index.length * dim;
        if (n == 0) return;
        try (DeviceCall c = call()) {
            long tp;
            synchronized (tables) {
                Long cached = tables.get(table);
                if (cached == null) {
                    cached = memory.residentWeight(table.length * 4L);
                    device.copy(cached, c.floats(table), table.length * 4L);
                    tables.put(table, cached);
                }
                tp = cached;
            }
            device.launch("add_indexed_rows", c.grid(n), 256, 0, c.inOut(x, n * 4), tp, c.ints(index), n, dim);
        }
    }

    @Override
    public void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                       MemorySegment out) {
        cpu.conv2d(x, cin, h, w, weight, bias, stride, padding, out);
    }
}
