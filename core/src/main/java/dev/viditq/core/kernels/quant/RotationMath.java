package dev.viditq.core.kernels.quant;

import dev.viditq.core.kernels.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The rotation arithmetic shared by the Java quantizer and {@link HadamardRotation}: the same float operations
 * in the same order as the C kernels (native/src/main/c/quant_common.h), so all of them agree bit for bit.
 * Vectorized where the lanes are independent (the order of operations per element does not change).
 */
final class RotationMath {
    private static final VectorSpecies<Float> FS = VectorWidth.FLOATS;
    private static final int L = FS.length();

    private RotationMath() {}

    // Stages h < L run inside one vector: lane i takes v[i] + v[i^h] where bit h of i is clear and
    // v[i^h] − v[i] where it is set — exactly the scalar a + b, a − b.
    private static final VectorShuffle<Float> X1 = partner(1), X2 = partner(2), X4 = partner(4), X8 = partner(8);
    private static final VectorMask<Float> M1 = upper(1), M2 = upper(2), M4 = upper(4), M8 = upper(8);

    private static VectorShuffle<Float> partner(int h) {
        return h < L ? VectorShuffle.fromOp(FS, i -> i ^ h) : null;
    }

    private static VectorMask<Float> upper(int h) {
        if (h >= L) return null;
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) bits[i] = (i & h) != 0;
        return VectorMask.fromArray(FS, bits, 0);
    }

    private static FloatVector stage(FloatVector v, VectorShuffle<Float> partner, VectorMask<Float> upper) {
        FloatVector p = v.rearrange(partner);
        return v.add(p).blend(p.sub(v), upper);
    }

    /** Stages h = 1, 2, 4, 8 (those below L) of one vector. */
    private static FloatVector inRegister(FloatVector v) {
        if (L > 1) v = stage(v, X1, M1);
        if (L > 2) v = stage(v, X2, M2);
        if (L > 4) v = stage(v, X4, M4);
        if (L > 8) v = stage(v, X8, M8);
        return v;
    }

    /** In-place unnormalized Walsh–Hadamard transform of v[off, off + p), p a power of two. */
    static void fwht(float[] v, int off, int p) {
        int h = 1;
        if (p >= L && L <= 16) {
            for (int i = off; i < off + p; i += L) inRegister(FloatVector.fromArray(FS, v, i)).intoArray(v, i);
            h = L;
        }
        for (; h < p; h <<= 1) {
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

    /**
     * y[a2][b] = Σ_a hmat[a][a2] · z[a][b], summed in the order a = 0, 1, ... (±1 products are exact). Four
     * outputs a2 at a time share each loaded vector of z, as in the C kernel.
     */
    static void mix(float[] z, int zOff, float[] y, int yOff, int hm, int hp, float[] hmat) {
        int a2 = 0;
        if (hp % L == 0) {
            for (; a2 + 4 <= hm; a2 += 4) {
                for (int b = 0; b < hp; b += L) {
                    FloatVector z0 = FloatVector.fromArray(FS, z, zOff + b);
                    FloatVector acc0 = z0.mul(hmat[a2]), acc1 = z0.mul(hmat[a2 + 1]);
                    FloatVector acc2 = z0.mul(hmat[a2 + 2]), acc3 = z0.mul(hmat[a2 + 3]);
                    for (int a = 1; a < hm; a++) {
                        int h = a * hm + a2;
                        FloatVector za = FloatVector.fromArray(FS, z, zOff + a * hp + b);
                        acc0 = acc0.add(za.mul(hmat[h]));
                        acc1 = acc1.add(za.mul(hmat[h + 1]));
                        acc2 = acc2.add(za.mul(hmat[h + 2]));
                        acc3 = acc3.add(za.mul(hmat[h + 3]));
                    }
                    acc0.intoArray(y, yOff + a2 * hp + b);
                    acc1.intoArray(y, yOff + (a2 + 1) * hp + b);
                    acc2.intoArray(y, yOff + (a2 + 2) * hp + b);
                    acc3.intoArray(y, yOff + (a2 + 3) * hp + b);
                }
            }
        }
        for (; a2 < hm; a2++) {
            int yo = yOff + a2 * hp;
            for (int b = 0; b < hp; b++) {
                float acc = hmat[a2] * z[zOff + b];
                for (int a = 1; a < hm; a++) acc = acc + hmat[a * hm + a2] * z[zOff + a * hp + b];
                y[yo + b] = acc;
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
