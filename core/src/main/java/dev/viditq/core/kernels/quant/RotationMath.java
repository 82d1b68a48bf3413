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

    /** Sums per quad of H_m's rows: z0 ± z1 ± z2 ± z3 with z0's sign +. */
    static final int QUAD_SUMS = 8;

    /** Floats of scratch {@link #transform} needs for a rotation block of b: the block and its quad sums. */
    static int scratchFloats(int block) {
        return Math.max(1, 3 * block);
    }

    /**
     * y[a2][b] = Σ_a hmat[a][a2] · z[a][b] by quads of a (hm a multiple of 4: every Paley order is), as
     * quant_common.h's vq_mix: per quad g the eight sums z0 ± z1 ± z2 ± z3 (12 additions), then per output one
     * sum per quad, times the sign of its z0 term, added in the order g = 0, 1, ... — m/4 additions per output
     * instead of m. ±1 products are exact; the same operations in the same order as the C kernels.
     * {@code sums} holds 2·hm·hp floats from {@code sOff}.
     */
    static void mix(float[] z, int zOff, float[] sums, int sOff, float[] y, int yOff, int hm, int hp, float[] hmat) {
        if (hm % 4 != 0) throw new IllegalArgumentException("Hadamard factor H_" + hm + " is no multiple of 4");
        quadSums(z, zOff, sums, sOff, hm, hp);
        for (int a2 = 0; a2 < hm; a2++) {
            int yo = yOff + a2 * hp;
            for (int g = 0; g < hm / 4; g++) {
                int h = 4 * g * hm + a2;
                float sign = hmat[h];
                int pick = (hmat[h + hm] != sign ? 1 : 0) | (hmat[h + 2 * hm] != sign ? 2 : 0) | (hmat[h + 3 * hm] != sign ? 4 : 0);
                int so = sOff + (QUAD_SUMS * g + pick) * hp;
                int b = 0;
                for (; b + L <= hp; b += L) {
                    FloatVector term = FloatVector.fromArray(FS, sums, so + b).mul(sign);
                    (g == 0 ? term : FloatVector.fromArray(FS, y, yo + b).add(term)).intoArray(y, yo + b);
                }
                for (; b < hp; b++) y[yo + b] = g == 0 ? sign * sums[so + b] : y[yo + b] + sign * sums[so + b];
            }
        }
    }

    /** The eight sums of every quad, sums[g][pick][b], pick = s1 + 2·s2 + 4·s3 (s_i = 1: z_i subtracted). */
    private static void quadSums(float[] z, int zOff, float[] c, int cOff, int hm, int hp) {
        for (int g = 0; g < hm / 4; g++) {
            int z0 = zOff + 4 * g * hp, c0 = cOff + QUAD_SUMS * g * hp;
            int b = 0;
            for (; b + L <= hp; b += L) {
                FloatVector v0 = FloatVector.fromArray(FS, z, z0 + b), v1 = FloatVector.fromArray(FS, z, z0 + hp + b);
                FloatVector v2 = FloatVector.fromArray(FS, z, z0 + 2 * hp + b), v3 = FloatVector.fromArray(FS, z, z0 + 3 * hp + b);
                FloatVector p0 = v0.add(v1), p1 = v0.sub(v1), q0 = v2.add(v3), q1 = v2.sub(v3);
                p0.add(q0).intoArray(c, c0 + b);
                p1.add(q0).intoArray(c, c0 + hp + b);
                p0.sub(q1).intoArray(c, c0 + 2 * hp + b);
                p1.sub(q1).intoArray(c, c0 + 3 * hp + b);
                p0.add(q1).intoArray(c, c0 + 4 * hp + b);
                p1.add(q1).intoArray(c, c0 + 5 * hp + b);
                p0.sub(q0).intoArray(c, c0 + 6 * hp + b);
                p1.sub(q0).intoArray(c, c0 + 7 * hp + b);
            }
            for (; b < hp; b++) {
                float v0 = z[z0 + b], v1 = z[z0 + hp + b], v2 = z[z0 + 2 * hp + b], v3 = z[z0 + 3 * hp + b];
                float p0 = v0 + v1, p1 = v0 - v1, q0 = v2 + v3, q1 = v2 - v3;
                c[c0 + b] = p0 + q0;
                c[c0 + hp + b] = p1 + q0;
                c[c0 + 2 * hp + b] = p0 - q1;
                c[c0 + 3 * hp + b] = p1 - q1;
                c[c0 + 4 * hp + b] = p0 + q1;
                c[c0 + 5 * hp + b] = p1 + q1;
                c[c0 + 6 * hp + b] = p0 - q0;
                c[c0 + 7 * hp + b] = p1 - q0;
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
     * rotation only the diagonal applies. {@code tmp} holds {@link #scratchFloats}(block) floats.
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
            if (hm > 1) mix(work, 0, tmp, block, row, o, hm, hp, hmat);
        }
    }
}
