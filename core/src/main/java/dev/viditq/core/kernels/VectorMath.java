package dev.viditq.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector exp and the activations built on it, in a few FMAs each, accurate to a few float ulps over the range
 * that matters. Written here rather than with {@code lanewise(EXP)} because that goes through a library stub per
 * call, several times slower than this polynomial and harder for C2 to schedule inside the attention loop.
 * The methods are small so C2 inlines them into the kernel loops (where the vectors then stay in registers).
 */
final class VectorMath {
    /** Below this e^x is under the smallest normal float: the result is 0 (also for -inf, as masks need). */
    private static final float EXP_LO = -87.33654f;
    /** Above this 2^n would overflow the exponent field: inputs are clamped (e^88.37 ≈ 2.4e38). */
    private static final float EXP_HI = 88.37626f;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in a part exact in float and a remainder (Cody-Waite), so x - n·ln2 loses nothing. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = 0x4B400000;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float FRAC_1_SQRT_2 = 0.7071067811865476f;

    private VectorMath() {}

    private static FloatVector c(float v) {
        return FloatVector.broadcast(MicroKernel.S, v);
    }

    /** e^x; 0 below -87.3 (and for -inf); NaN stays NaN. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector t = xc.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(c(-LN2_HI), xc);
        r = n.fma(c(-LN2_LO), r);
        // Taylor series of e^r to r^7 on |r| <= ln2/2: truncation error below 1e-8
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        p = p.fma(r, c(1f / 120));
        p = p.fma(r, c(1f / 24));
        p = p.fma(r, c(1f / 6));
        p = p.fma(r, c(0.5f));
        p = p.fma(r, c(1f));
        p = p.fma(r, c(1f));
        IntVector twoToN = t.reinterpretAsInts().add(127 - ROUNDER_BITS).lanewise(VectorOperators.LSHL, 23);
        return p.mul(twoToN.reinterpretAsFloats()).blend(0f, x.lt(EXP_LO));
    }

    /** x·sigmoid(x) = x / (1 + e^-x). */
    static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(1f));
    }

    /**
     * GELU, tanh form. 0.5·(1 + tanh(u)) = 1 / (1 + e^(-2u)), which avoids the cancellation of 1 + tanh(u) for
     * negative x: gelu = x / (1 + e^(-2u)), u = √(2/π)·(x + 0.044715·x³).
     */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector u = x.mul(x).fma(0.044715f, 1f).mul(x).mul(SQRT_2_OVER_PI);
        return x.div(exp(u.mul(-2f)).add(1f));
    }

    /**
     * Exact GELU x·Φ(x) with Φ(x) = 1 - erfc(z)/2 for x ≥ 0 and erfc(z)/2 for x < 0, z = |x|/√2, and erfc from
     * the Chebyshev fit of Numerical Recipes (erfcc, relative error below 1.2e-7 for every z ≥ 0), so the
     * small tail values for negative x keep their relative accuracy.
     */
    static FloatVector geluErf(FloatVector x) {
        FloatVector z = x.abs().mul(FRAC_1_SQRT_2);
        FloatVector t = z.fma(0.5f, 1f);
        t = c(1f).div(t);
        FloatVector p = t.fma(0.17087277f, -0.82215223f);
        p = p.fma(t, c(1.48851587f));
        p = p.fma(t, c(-1.13520398f));
        p = p.fma(t, c(0.27886807f));
        p = p.fma(t, c(-0.18628806f));
        p = p.fma(t, c(0.09678418f));
        p = p.fma(t, c(0.37409196f));
        p = p.fma(t, c(1.00002368f));
        p = p.fma(t, c(-1.26551223f));
        FloatVector halfErfc = t.mul(exp(p.sub(z.mul(z)))).mul(0.5f);
        FloatVector phi = halfErfc.neg().add(1f).blend(halfErfc, x.lt(0f));
        return x.mul(phi);
    }
}
