package dev.viditq.quant.runtime;

import dev.viditq.quant.config.QuantConfig;

/**
 * Round-to-nearest weight quantization (ViDiT-Q's {@code scale_method: min_max}, {@code round_mode: nearest}).
 * <ul>
 *   <li>asymmetric: the range [min(lo, 0), max(hi, 0)] of a row (or group, or tensor) is cut into 2^bits − 1 steps,
 *       scale = range / (2^bits − 1), zero = round(−min / scale) in the unsigned domain, then shifted by 2^(bits−1)
 *       into the signed container the kernels take;</li>
 *   <li>symmetric: scale = absmax / (2^(bits−1) − 1), zero 0, q in [−(2^(bits−1) − 1), 2^(bits−1) − 1].</li>
 * </ul>
 * Including 0 in the range keeps the zero point inside the container. A row of zeros gets scale 0.
 */
public final class WeightQuantizer {
    private WeightQuantizer() {}

    /** Quantizes row-major w [n, k] (already balanced and rotated). */
    public static QuantizedWeight quantize(float[] w, int n, int k, int bits, QuantConfig.WeightSpec spec) {
        int groupSize = spec.granularity() == QuantConfig.WeightGranularity.GROUP ? Math.min(spec.groupSize(), k) : k;
        int groups = Math.ceilDiv(k, groupSize);
        byte[] q = new byte[n * k];
        float[] scales = new float[n * groups];
        byte[] zeros = spec.symmetric() ? null : new byte[n * groups];
        float[] tensorRange = spec.granularity() == QuantConfig.WeightGranularity.TENSOR ? range(w, 0, w.length) : null;
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < groups; g++) {
                int from = r * k + g * groupSize, to = r * k + Math.min(k, (g + 1) * groupSize);
                float[] lohi = tensorRange != null ? tensorRange : range(w, from, to);
                int slot = r * groups + g;
                if (spec.symmetric()) {
                    scales[slot] = symmetric(w, from, to, lohi, bits, q);
                } else {
                    zeros[slot] = asymmetric(w, from, to, lohi, bits, q, scales, slot);
                }
            }
        }
        return QuantizedWeight.fromRowMajor(bits, n, k, groupSize, q, scales, zeros);
    }

    private static float[] range(float[] w, int from, int to) {
        float lo = 0, hi = 0;
        for (int i = from; i < to; i++) {
            lo = Math.min(lo, w[i]);
            hi = Math.max(hi, w[i]);
        }
        return new float[]{lo, hi};
    }

    private static float symmetric(float[] w, int from, int to, float[] lohi, int bits, byte[] q) {
        int qmax = (1 << (bits - 1)) - 1;
        float scale = Math.max(-lohi[0], lohi[1]) / qmax;
        for (int i = from; i < to; i++) {
            q[i] = scale == 0 ? 0 : (byte) Math.clamp(Math.rint(w[i] / scale), -qmax, qmax);
        }
        return scale;
    }

    private static byte asymmetric(float[] w, int from, int to, float[] lohi, int bits, byte[] q, float[] scales, int slot) {
        int levels = (1 << bits) - 1, shift = 1 << (bits - 1);
        float scale = (lohi[1] - lohi[0]) / levels;
        scales[slot] = scale;
        if (scale == 0) {
            for (int i = from; i < to; i++) q[i] = 0;
            return 0;
        }
        int zero = (int) Math.clamp(Math.rint(-lohi[0] / scale), 0, levels);
        for (int i = from; i < to; i++) {
            long u = Math.clamp((long) Math.rint(w[i] / scale) + zero, 0, levels);
            q[i] = (byte) (u - shift);
        }
        return (byte) (zero - shift);
    }
}
