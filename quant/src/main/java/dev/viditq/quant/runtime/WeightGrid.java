package dev.viditq.quant.runtime;

import dev.viditq.quant.config.QuantConfig;

/**
 * The integer grid of one weight row, group or tensor, from its value range (ViDiT-Q's {@code scale_method: min_max}):
 * <ul>
 *   <li>asymmetric: the range [min(lo, 0), max(hi, 0)] is cut into 2^bits − 1 steps, scale = range / (2^bits − 1),
 *       zero = round(−min / scale) in the unsigned domain [0, 2^bits − 1]; values are stored shifted by 2^(bits−1)
 *       into the signed container the kernels take (so is the zero point);</li>
 *   <li>symmetric: scale = absmax / (2^(bits−1) − 1), zero 0, q in [−(2^(bits−1) − 1), 2^(bits−1) − 1].</li>
 * </ul>
 * Including 0 in the range keeps the zero point inside the container. A range of zeros gives scale 0 and q = 0.
 * The scale is rounded to the type it is stored in ({@link QuantConfig.ScaleType}, F32 or BF16) before the zero point
 * and the integers are chosen against it, so the stored scale, zero point and integers dequantize to exactly the
 * values the quantizer worked with (a BF16 scale is within 2^−9 of the exact one: values at the ends of the range
 * may clamp by at most 2^−9 of the range, far less than the rounding step).
 * Every weight quantizer (round-to-nearest, GPTQ) rounds through this one class, so what they store is the same format.
 *
 * @param zero the zero point in the unsigned domain (asymmetric), 0 for symmetric grids
 */
public record WeightGrid(int bits, boolean symmetric, float scale, int zero) {
    /**
     * The grid of values in [lo, hi] (the caller's min and max; 0 is added to the range here), its scale as
     * {@code scaleType} stores it.
     */
    public static WeightGrid of(float lo, float hi, int bits, boolean symmetric, QuantConfig.ScaleType scaleType) {
        lo = Math.min(lo, 0);
        hi = Math.max(hi, 0);
        if (symmetric) return new WeightGrid(bits, true, scaleType.round(Math.max(-lo, hi) / qmax(bits)), 0);
        int levels = levels(bits);
        float scale = scaleType.round((hi - lo) / levels);
        int zero = scale == 0 ? 0 : (int) Math.clamp(Math.rint(-lo / scale), 0, levels);
        return new WeightGrid(bits, false, scale, zero);
    }

    /** The grid of w[from, to). */
    public static WeightGrid of(float[] w, int from, int to, int bits, boolean symmetric, QuantConfig.ScaleType scaleType) {
        float lo = 0, hi = 0;
        for (int i = from; i < to; i++) {
            lo = Math.min(lo, w[i]);
            hi = Math.max(hi, w[i]);
        }
        return of(lo, hi, bits, symmetric, scaleType);
    }

    /** The stored (signed-container) value of {@code w}: nearest grid point, clamped to the grid. */
    public byte quantize(float w) {
        if (scale == 0) return 0;
        if (symmetric) return (byte) Math.clamp(Math.rint(w / scale), -qmax(bits), qmax(bits));
        long u = Math.clamp((long) Math.rint(w / scale) + zero, 0, levels(bits));
        return (byte) (u - shift(bits));
    }

    /** The zero point as stored (signed container), what {@link QuantizedWeight#zeros()} holds. */
    public byte storedZero() {
        return symmetric || scale == 0 ? 0 : (byte) (zero - shift(bits));
    }

    /** The value a stored {@code q} stands for, computed as {@link QuantizedWeight#dequantize()} does. */
    public float dequantize(byte q) {
        return scale * (q - storedZero());
    }

    private static int qmax(int bits) {
        return (1 << (bits - 1)) - 1;
    }

    private static int levels(int bits) {
        return (1 << bits) - 1;
    }

    private static int shift(int bits) {
        return 1 << (bits - 1);
    }
}
