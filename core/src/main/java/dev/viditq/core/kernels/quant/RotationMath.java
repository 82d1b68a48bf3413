package dev.viditq.core.kernels.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The rotation arithmetic shared by the Java quantizer and {@link HadamardRotation}: the same float operations
 * in the same order as the C kernels (native/src/main/c/quant_common.h), so all of them agree bit for bit.
 * Vectorized where the lanes are independent (the order of operations per element does not change).
 */
final class RotationMath {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();

    private RotationMath() {}

    /** In-place unnormalized Walsh–Hadamard transform of v[off, off + p), p a power of two. */
    static void fwht(float[] v, int off, int p) {
        for (int h = 1; h < p; h <<= 1) {
            for (int i = off; i < off + p; i += h << 1) {
                int j = i;
                if (h >= L) {
                    for (; j + L <= i + h; j += L) {
                        FloatVector a = FloatVector.fromArray(FS, v, j), b = FloatVector.fromArray(FS, v, j + h);
                        a.add(b).intoArray(v, j);
                        a.sub(b).intoArray(v, j + h);
                    }
                }
                for (; j < i + h; j++) {
                    float a = v[j], b = v[j + h];
                    v[j] = a + b;
                    v[j + h] = a - b;
                }
            }
        }
    }

    /** y[a2][b] = Σ_a hmat[a][a2] · z[a][b], summed in the order a = 0, 1, ... (±1 products are exact). */
    static void mix(float[] z, int zOff, float[] y, int yOff, int hm, int hp, float[] hmat) {
        for (int a2 = 0; a2 < hm; a2++) {
            int yo = yOff + a2 * hp;
            float h0 = hmat[a2];
            for (int b = 0; b < hp; b++) y[yo + b] = h0 * z[zOff + b];
            for (int a = 1; a < hm; a++) {
                float h = hmat[a * hm + a2];
                int zo = zOff + a * hp;
                int b = 0;
                for (; b + L <= hp; b += L) {
                    FloatVector acc = FloatVector.fromArray(FS, y, yo + b);
                    acc.add(FloatVector.fromArray(FS, z, zo + b).mul(h)).intoArray(y, yo + b);
                }
                for (; b < hp; b++) y[yo + b] = y[yo + b] + h * z[zo + b];
            }
        }
    }

    /** dst[dOff, dOff + n) = src[sOff..] · diag[gOff..] (or a copy when diag is null). */
    static void multiply(float[] src, int sOff, float[] diag, int gOff, float[] dst, int dOff, int n) {
        if (diag == null) {
            System.arraycopy(src, sOff, dst, dOff, n);
            return;
        }
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(FS, src, sOff + i).mul(FloatVector.fromArray(FS, diag, gOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] = src[sOff + i] * diag[gOff + i];
    }

    /**
     * row[0, k) = (x ⊙ diag) · blockdiag(H_b), unnormalized; x is read from {@code x[xOff, xOff + k)}. With no
     * rotation only the diagonal applies. {@code tmp} holds one block.
     */
    static void transform(float[] x, int xOff, int k, float[] diag, int block, int hm, float[] hmat, float[] row,
                          float[] tmp) {
        if (block == 0) {
            multiply(x, xOff, diag, 0, row, 0, k);
            return;
        }
        int hp = block / hm;
        for (int o = 0; o < k; o += block) {
            float[] work = hm == 1 ? row : tmp;
            int wOff = hm == 1 ? o : 0;
            multiply(x, xOff + o, diag, o, work, wOff, block);
            for (int s = 0; s < hm; s++) fwht(work, wOff + s * hp, hp);
            if (hm > 1) mix(work, 0, row, o, hm, hp, hmat);
        }
    }
}
