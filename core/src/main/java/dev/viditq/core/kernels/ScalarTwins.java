package dev.viditq.core.kernels;

import static dev.viditq.core.kernels.VectorMath.C2;
import static dev.viditq.core.kernels.VectorMath.C3;
import static dev.viditq.core.kernels.VectorMath.C4;
import static dev.viditq.core.kernels.VectorMath.C5;
import static dev.viditq.core.kernels.VectorMath.C6;
import static dev.viditq.core.kernels.VectorMath.C7;
import static dev.viditq.core.kernels.VectorMath.EXP_HI;
import static dev.viditq.core.kernels.VectorMath.EXP_LO;
import static dev.viditq.core.kernels.VectorMath.LOG2E;
import static dev.viditq.core.kernels.VectorMath.NEG_LN2_HI_F;
import static dev.viditq.core.kernels.VectorMath.NEG_LN2_LO_F;
import static dev.viditq.core.kernels.VectorMath.ROUNDER;
import static dev.viditq.core.kernels.VectorMath.ROUNDER_BITS;

/**
 * {@link VectorMath}'s functions one float at a time, with the same operations in the same order (fused
 * multiply-adds as {@link Math#fma}, the same constants and the same exponent arithmetic), so each gives the bits its
 * vector twin gives in every lane. For inputs too small to be worth the vector loop: a kernel called on a few
 * thousand floats a few times per step (the SiLU of a timestep embedding) runs its Vector API loop interpreted until
 * C2 compiles it, ~1-2 ms a call on the project machine for the first steps; this scalar loop gets compiled by C1
 * within its first call.
 */
final class ScalarTwins {
    private ScalarTwins() {}

    /** {@link VectorMath#exp}: 0 below EXP_LO (and for -inf), NaN kept, the argument clamped above. */
    static float exp(float x) {
        float clamped = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
        float t = Math.fma(clamped, LOG2E, ROUNDER);
        float n = t - ROUNDER;
        float r = Math.fma(n, NEG_LN2_HI_F, clamped);
        r = Math.fma(n, NEG_LN2_LO_F, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        float twoToN = Float.intBitsToFloat((Float.floatToRawIntBits(t) + (127 - ROUNDER_BITS)) << 23);
        return x < EXP_LO ? 0f : p * twoToN;
    }

    /** {@link VectorMath#silu}: x / (1 + e^-x). */
    static float silu(float x) {
        return x / (exp(-x) + 1f);
    }
}
