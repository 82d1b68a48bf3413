package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.PackedWeight;

/**
 * One weight matrix [n, k] quantized to {@code bits}: W[r][c] ≈ scale[r][g] · (q[r][c] − zero[r][g]), g = c / groupSize.
 * Values of 5–8 bits are stored in int8 containers (6-bit: q in [−32, 31]) and run on the int8 kernel; 2–4 bits in
 * int4 containers on the int4 kernel. The row-major integers are what the checkpoint stores; {@link #pack()} lays
 * them out for the kernels.
 *
 * @param groupSize k for one group per row (per-output-channel scales)
 * @param q         row-major values, each in [−2^(bits−1), 2^(bits−1) − 1]
 * @param scales    [n][groups]
 * @param zeros     [n][groups] in the same signed domain as q, or null for symmetric weights
 */
public record QuantizedWeight(int bits, int n, int k, int groupSize, byte[] q, float[] scales, byte[] zeros) {
    public QuantizedWeight {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("weight bits " + bits + " outside 2..8");
        if ((long) n * k != q.length) throw new IllegalArgumentException(q.length + " values for [" + n + ", " + k + "]");
        if (groupSize < 1 || groupSize > k) throw new IllegalArgumentException("group size " + groupSize + " for rows of " + k);
        int groups = Math.ceilDiv(k, groupSize);
        if (scales.length != n * groups) {
            throw new IllegalArgumentException(scales.length + " scales for " + n + " rows × " + groups + " groups");
        }
        if (zeros != null && zeros.length != n * groups) {
            throw new IllegalArgumentException(zeros.length + " zero points for " + n + " rows × " + groups + " groups");
        }
        if (groups > 1 && bits > 4) throw new IllegalArgumentException("per-group scales need weights of at most 4 bits, got " + bits);
        int lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
        for (byte v : q) if (v < lo || v > hi) throw new IllegalArgumentException(bits + "-bit weight value " + v + " outside [" + lo + ", " + hi + "]");
        if (zeros != null) for (byte v : zeros) if (v < lo || v > hi) throw new IllegalArgumentException(bits + "-bit zero point " + v + " outside [" + lo + ", " + hi + "]");
        for (float s : scales) if (!Float.isFinite(s) || s < 0) throw new IllegalArgumentException("weight scale " + s + " is not a finite non-negative number");
    }

    public int groups() {
        return Math.ceilDiv(k, groupSize);
    }

    /** True when the int4 kernel runs it. */
    public boolean int4() {
        return bits <= 4;
    }

    /** The weights in the kernels' packed layout. */
    public PackedWeight pack() {
        int[] z = null;
        if (zeros != null) {
            z = new int[zeros.length];
            for (int i = 0; i < z.length; i++) z[i] = zeros[i];
        }
        return int4() ? PackedInt4Weight.pack(q, n, k, groupSize == k ? 0 : groupSize, scales, z)
                : PackedInt8Weight.pack(q, n, k, scales, z);
    }

    /** W[r][c] as the integers stand for it (the simulated path multiplies with these). */
    public float[] dequantize() {
        float[] w = new float[n * k];
        int groups = groups();
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                int g = r * groups + c / groupSize;
                int zero = zeros == null ? 0 : zeros[g];
                w[r * k + c] = scales[g] * (q[r * k + c] - zero);
            }
        }
        return w;
    }
}
