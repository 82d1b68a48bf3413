package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * Activation quantization in Java, for what the fused native quantizer does not do — fewer than 8 bits (A6 clamps
 * to [−31, 31]), fixed (static) scales, one dynamic scale per tensor — and for the simulated path, which quantizes
 * and dequantizes in float. Each row: y = (x ⊙ smooth)·Q (the layer's balancing and rotation, in that order),
 * scale = range / (2^(bits−1) − 1), q = clamp(rint(y / scale), ±(2^(bits−1) − 1)); a zero range gives scale 0 and q 0.
 */
final class ActivationQuantizer {
    /** Where a row's range comes from. */
    interface Ranges {
        /** The abs-max a row's scale is made from; {@code rowAbsMax} is the row's own (after the transform). */
        float rangeOf(int row, float rowAbsMax);
    }

    /** Per-token dynamic: each row's own abs-max. */
    static final Ranges DYNAMIC_TOKEN = (row, own) -> own;

    private final int k;
    private final float[] smooth;
    private final HadamardRotation rotation;

    ActivationQuantizer(int k, float[] smooth, HadamardRotation rotation) {
        this.k = k;
        this.smooth = smooth;
        this.rotation = rotation;
    }

    /**
     * Quantizes x [rows, k] (F32) into {@code q} [rows·k] and {@code scales} [rows]. With {@code tensorDynamic} the
     * scale of every row is made from the largest abs-max over all rows; otherwise {@code ranges} decides.
     */
    void quantize(MemorySegment x, int rows, int bits, Ranges ranges, boolean tensorDynamic, byte[] q, float[] scales) {
        int qmax = (1 << (bits - 1)) - 1;
        float[] y = new float[rows * k];
        float[] rowMax = new float[rows];
        Parallel.forEach(rows, r -> rowMax[r] = transformRow(x, r, y));
        float tensorMax = 0;
        if (tensorDynamic) for (float m : rowMax) tensorMax = Math.max(tensorMax, m);
        final float tmax = tensorMax;
        Parallel.forEach(rows, r -> {
            float range = tensorDynamic ? tmax : ranges.rangeOf(r, rowMax[r]);
            float scale = range / qmax;
            scales[r] = scale;
            int off = r * k;
            for (int c = 0; c < k; c++) {
                q[off + c] = scale == 0 ? 0 : (byte) Math.clamp(Math.rint(y[off + c] / scale), -qmax, qmax);
            }
        });
    }

    /** y[row] = transform(x[row]); returns its abs-max. */
    private float transformRow(MemorySegment x, int r, float[] y) {
        int off = r * k;
        MemorySegment.copy(x, Tensor.F32_LE, (long) off * Float.BYTES, y, off, k);
        if (smooth != null) for (int c = 0; c < k; c++) y[off + c] *= smooth[c];
        if (rotation != null) rotation.rotate(y, off);
        float m = 0;
        for (int c = 0; c < k; c++) m = Math.max(m, Math.abs(y[off + c]));
        return m;
    }
}
