package dev.viditq.quant.runtime;

import dev.viditq.quant.config.QuantConfig;

/**
 * Round-to-nearest weight quantization (ViDiT-Q's {@code scale_method: min_max}, {@code round_mode: nearest}) on the
 * grid of each row, group or tensor ({@link WeightGrid}: asymmetric min/max with a zero point, or symmetric absmax),
 * each scale rounded to the type it is stored in before the integers are chosen.
 */
public final class WeightQuantizer {
    private WeightQuantizer() {}

    /** Quantizes row-major w [n, k] (already balanced and rotated). */
    public static QuantizedWeight quantize(float[] w, int n, int k, int bits, QuantConfig.WeightSpec spec) {
        int groupSize = groupSize(spec, k);
        int groups = Math.ceilDiv(k, groupSize);
        byte[] q = new byte[n * k];
        float[] scales = new float[n * groups];
        byte[] zeros = spec.symmetric() ? null : new byte[n * groups];
        WeightGrid tensorGrid = spec.granularity() == QuantConfig.WeightGranularity.TENSOR
                ? WeightGrid.of(w, 0, w.length, bits, spec.symmetric(), spec.scaleType()) : null;
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < groups; g++) {
                int from = r * k + g * groupSize, to = r * k + Math.min(k, (g + 1) * groupSize);
                WeightGrid grid = tensorGrid != null ? tensorGrid : WeightGrid.of(w, from, to, bits, spec.symmetric(), spec.scaleType());
                int slot = r * groups + g;
                scales[slot] = grid.scale();
                if (zeros != null) zeros[slot] = grid.storedZero();
                for (int i = from; i < to; i++) q[i] = grid.quantize(w[i]);
            }
        }
        return QuantizedWeight.fromRowMajor(bits, n, k, groupSize, q, scales, zeros, spec.scaleType());
    }

    /** Inputs per scale: the configured group (at most k) with granularity group, else the whole row. */
    public static int groupSize(QuantConfig.WeightSpec spec, int k) {
        return spec.granularity() == QuantConfig.WeightGranularity.GROUP ? Math.min(spec.groupSize(), k) : k;
    }
}
