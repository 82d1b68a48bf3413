package dev.viditq.quant.lowbit;

import dev.viditq.core.kernels.quant.HadamardRotation;

/**
 * A Hessian H = XᵀX recorded on a layer's own input, taken to the basis its integer kernel sees. ViDiT-Q feeds the
 * kernel x' = (x ⊙ m)·Q (balancing m, rotation Q), i.e. x' = x·T with T = diag(m)·Q, so X'ᵀX' = Tᵀ·H·T. Computed
 * with the rotation's own row arithmetic ({@link HadamardRotation#rotate}), O(k² log k) instead of two dense k³
 * products: first every row of H goes through x ↦ (x ⊙ m)·Q (that is H·T), then every row of the transpose.
 */
public final class HessianBasis {
    private HessianBasis() {}

    /**
     * Tᵀ·H·T for the dense symmetric k × k {@code h}; {@code smooth} (m) and {@code rotation} may each be null.
     * The result is symmetrised (the two halves differ by float rounding of the rotation).
     */
    public static double[] transform(double[] h, int k, float[] smooth, HadamardRotation rotation) {
        if (h.length != k * k) throw new IllegalArgumentException(h.length + " Hessian values for " + k + " inputs");
        if (smooth == null && rotation == null) return h.clone();
        double[] ht = transformRows(h, k, smooth, rotation);      // H·T
        double[] out = transformRows(transpose(ht, k), k, smooth, rotation);   // (H·T)ᵀ·T = Tᵀ·H·T
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                double v = (out[i * k + j] + out[j * k + i]) / 2;
                out[i * k + j] = v;
                out[j * k + i] = v;
            }
        }
        return out;
    }

    private static double[] transformRows(double[] a, int k, float[] smooth, HadamardRotation rotation) {
        double[] out = new double[k * k];
        float[] row = new float[k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) row[j] = (float) (a[i * k + j] * (smooth == null ? 1 : smooth[j]));
            if (rotation != null) rotation.rotate(row, 0);
            for (int j = 0; j < k; j++) out[i * k + j] = row[j];
        }
        return out;
    }

    private static double[] transpose(double[] a, int k) {
        double[] t = new double[k * k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) t[j * k + i] = a[i * k + j];
        return t;
    }
}
