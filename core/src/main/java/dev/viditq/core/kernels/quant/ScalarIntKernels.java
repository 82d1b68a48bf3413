package dev.viditq.core.kernels.quant;

import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The oracle: each kernel as the formula, written plainly. The rotation is a dense matrix product with the full
 * Hadamard matrix ({@link Hadamard#dense(int)}) in double precision — independent of the fast transform the
 * other implementations share — and the GEMMs read the weights through their scalar getters, accumulating
 * exactly (long) and scaling in double.
 */
public final class ScalarIntKernels implements IntKernels {
    private final Map<Integer, float[]> denseHadamard = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void quantize(MemorySegment x, int rows, int k, ActivationTransform t, QuantizedActivations out) {
        IntKernelChecks.quantize(x, rows, k, t, out);
        byte[] q = new byte[rows * k];
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            double[] y = transform(x, (long) r * k, k, t);
            double amax = 0;
            for (double v : y) amax = Math.max(amax, Math.abs(v));
            double scale = amax / 127;
            for (int c = 0; c < k; c++) {
                double v = scale == 0 ? 0 : Math.rint(y[c] / scale);
                q[r * k + c] = (byte) Math.max(-127, Math.min(127, v));
            }
            scales[r] = (float) scale;
        }
        out.set(rows, q, scales);
    }

    /** y = ((x ⊙ smooth) ⊙ signs) · blockdiag(H_b) / √b, in double. */
    private double[] transform(MemorySegment x, long offset, int k, ActivationTransform t) {
        float[] smooth = t == null ? null : t.smooth();
        HadamardRotation rotation = t == null ? null : t.rotation();
        double[] v = new double[k];
        for (int c = 0; c < k; c++) {
            v[c] = x.getAtIndex(Tensor.F32_LE, offset + c);
            if (smooth != null) v[c] *= smooth[c];
            if (rotation != null) v[c] *= rotation.sign(c);
        }
        if (rotation == null) return v;
        int b = rotation.block();
        float[] h = denseHadamard.computeIfAbsent(b, Hadamard::dense);
        double[] y = new double[k];
        for (int o = 0; o < k; o += b) {
            for (int j = 0; j < b; j++) {
                double s = 0;
                for (int i = 0; i < b; i++) s += v[o + i] * h[i * b + j];
                y[o + j] = s / Math.sqrt(b);
            }
        }
        return y;
    }

    @Override
    public void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        for (int r = 0; r < x.rows(); r++) {
            for (int c = 0; c < w.n(); c++) {
                long acc = 0;
                for (int i = 0; i < w.k(); i++) acc += (long) x.q(r, i) * (w.q(c, i) - w.zeroPoint(c));
                store(out, bias, r, c, w.n(), acc * (double) w.scale(c) * x.scale(r));
            }
        }
    }

    @Override
    public void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        for (int r = 0; r < x.rows(); r++) {
            for (int c = 0; c < w.n(); c++) {
                double sum = 0;
                for (int g = 0; g < w.groups(); g++) {
                    long acc = 0;
                    for (int i = g * w.groupSize(); i < Math.min(w.k(), (g + 1) * w.groupSize()); i++) {
                        acc += (long) x.q(r, i) * (w.q(c, i) - w.zeroPoint(c, g));
                    }
                    sum += acc * (double) w.scale(c, g);
                }
                store(out, bias, r, c, w.n(), sum * x.scale(r));
            }
        }
    }

    private static void store(MemorySegment out, MemorySegment bias, int r, int c, int n, double v) {
        if (bias != null) v += bias.getAtIndex(Tensor.F32_LE, c);
        out.setAtIndex(Tensor.F32_LE, (long) r * n + c, (float) v);
    }
}
