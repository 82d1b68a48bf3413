package dev.viditq.core.kernels;

/**
 * {@link VectorMath}'s functions one float at a time, with the same operations in the same order (fused
 * multiply-adds as {@link Math#fma}, the same constants and the same exponent arithmetic), so each gives the bits its
 * vector twin gives in every lane. For inputs too small to be worth the vector loop: a kernel called on a few
 * thousand floats a few times per step (the SiLU of a timestep embedding) runs its Vector API loop interpreted until
 * C2 compiles it, ~1-2 ms a call on the project machine for the first steps; this scalar loop gets compiled by C1
 * within its first call.
 */
final class ScalarTwins {
    private static final float EXP_LO = -87.33654f, EXP_HI = 88.37626f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = 0x4B400000;

    private ScalarTwins() {}

    /** {@link VectorMath#exp}: 0 below EXP_LO (and for -inf), NaN kept, the argument clamped above. */
    static float exp(float x) {
        float clamped = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
        float t = Math.fma(clamped, LOG2E, ROUNDER);
        float n = t - ROUNDER;
        float r = Math.fma(n, -0.693359375f, clamped);
        r = Math.fma(n, 2.12194440e-4f, r);
        float p = Math.fma(r, 1f / 5040, 1f / 720);
        p = Math.fma(p, r, 1f / 120);
        p = Math.fma(p, r, 1f / 24);
        p = Math.fma(p, r, 1f / 6);
        p = Math.fma(p, r, 0.5f);
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
