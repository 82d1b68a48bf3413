package dev.viditq.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector exp and the activations built on it, in a few FMAs each, accurate to a few float ulps over the range
 * that matters. Written here rather than with {@code lanewise(EXP)} because that goes through a library stub per
 * call, several times slower than this polynomial and harder for C2 to schedule inside the attention loop.
 * The methods are small so C2 inlines them into the kernel loops (where the vectors then stay in registers).
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = MicroKernel.S;
    // exp's constants as floats, shared with its scalar twin (ScalarTwins), which must give the same bits
    /** Below this e^x is under the smallest normal float: the result is 0 (also for -inf, as masks need). */
    static final float EXP_LO = -87.33654f;
    /** Above this 2^n would overflow the exponent field: inputs are clamped (e^88.37 ≈ 2.4e38). */
    static final float EXP_HI = 88.37626f;
    static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2^23: adding it rounds to an integer held in the low mantissa bits. */
    static final float ROUNDER = 12582912f;
    static final int ROUNDER_BITS = 0x4B400000;
    /** -ln 2 split in a part exact in float and a remainder (Cody-Waite), so x - n·ln2 loses nothing. */
    static final float NEG_LN2_HI_F = -0.693359375f, NEG_LN2_LO_F = 2.12194440e-4f;
    /** Taylor coefficients of e^r to r^7: on |r| <= ln2/2 the truncation error is below 1e-8. */
    static final float C7 = 1f / 5040, C6 = 1f / 720, C5 = 1f / 120, C4 = 1f / 24, C3 = 1f / 6, C2 = 0.5f;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float FRAC_1_SQRT_2 = 0.7071067811865476f;

    // Constants as vectors: C2 folds them, where a broadcast per use would add nodes to every kernel that
    // inlines exp, and a kernel that runs out of its node budget stops inlining and boxes its vectors.
    private static final FloatVector NEG_LN2_HI = FloatVector.broadcast(S, NEG_LN2_HI_F);
    private static final FloatVector NEG_LN2_LO = FloatVector.broadcast(S, NEG_LN2_LO_F);
    private static final FloatVector E7 = FloatVector.broadcast(S, C7), E6 = FloatVector.broadcast(S, C6),
            E5 = FloatVector.broadcast(S, C5), E4 = FloatVector.broadcast(S, C4),
            E3 = FloatVector.broadcast(S, C3), E2 = FloatVector.broadcast(S, C2), ONE = FloatVector.broadcast(S, 1f);

    /** Chebyshev fit of erfc (Numerical Recipes erfcc): erfc(z) = t·e^(-z² + R(t)), t = 1 / (1 + z/2). */
    private static final FloatVector R7 = FloatVector.broadcast(S, 1.48851587f), R6 = FloatVector.broadcast(S, -1.13520398f),
            R5 = FloatVector.broadcast(S, 0.27886807f), R4 = FloatVector.broadcast(S, -0.18628806f),
            R3 = FloatVector.broadcast(S, 0.09678418f), R2 = FloatVector.broadcast(S, 0.37409196f),
            R1 = FloatVector.broadcast(S, 1.00002368f), R0 = FloatVector.broadcast(S, -1.26551223f);

    /** SUM_STEPS[i]: lane j takes lane j + (L >> (i + 1)) (wrapping), the shuffles of {@link #sumLanes}'s tree. */
    private static final VectorShuffle<Float>[] SUM_STEPS = sumSteps();
    private static final float[] ZERO_LANES = new float[S.length()];
    private static final float[] NEG_INF_LANES = new float[S.length()];

    static {
        java.util.Arrays.fill(NEG_INF_LANES, Float.NEGATIVE_INFINITY);
    }

    private VectorMath() {}

    /**
     * A vector of zeros to start an accumulator with. Read from an array on purpose: C2 knows the exact vector
     * class of an array load while parsing, but not of {@code FloatVector.zero/broadcast} when it inlines their
     * intrinsic late; an accumulator started from those then makes every vector call on it in the loop virtual,
     * and every vector is boxed on the heap (softmax ran at a fifth of its speed).
     */
    static FloatVector zeros() {
        return FloatVector.fromArray(S, ZERO_LANES, 0);
    }

    /** A vector of -inf to start a running maximum with; see {@link #zeros()}. */
    static FloatVector negativeInfinities() {
        return FloatVector.fromArray(S, NEG_INF_LANES, 0);
    }

    /** e^x; 0 below -87.3 (and for -inf); NaN stays NaN. */
    /**
     * The sum of the lanes, associated in a fixed tree: lane j + lane j + L/2, then + the partner L/4 away, …, read
     * from lane 0. {@code reduceLanes(ADD)} may associate differently in the interpreter (lane by lane) and once C2
     * has compiled it (a tree of its own), so the same input summed before and after JIT compilation differed in the
     * last bits — and with it norms, softmax weights, calibration ranges and whole sampled images, run to run. Every
     * step here is a lane-wise IEEE add, which no tier can reorder.
     */
    static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> step : SUM_STEPS) v = v.add(v.rearrange(step));
        return v.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] sumSteps() {
        int lanes = S.length(), n = Integer.numberOfTrailingZeros(lanes);
        VectorShuffle<Float>[] steps = new VectorShuffle[n];
        for (int i = 0; i < n; i++) steps[i] = VectorShuffle.iota(S, lanes >> (i + 1), 1, true);
        return steps;
    }

    static FloatVector exp(FloatVector x) {
        FloatVector clamped = clampExpArgument(x);
        FloatVector t = clamped.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(NEG_LN2_HI, clamped);
        r = n.fma(NEG_LN2_LO, r);
        return series(r).mul(twoTo(t)).blend(0f, x.lt(EXP_LO));
    }

    /**
     * e^(a + b) for an exact a of any size and a small b (|b| of order 1), keeping the bits that rounding a + b
     * would lose: the reduction is (a - n·ln2) + b. For arguments that do not overflow (a + b below 88).
     */
    static FloatVector expOfSum(FloatVector a, FloatVector b) {
        FloatVector sum = a.add(b);
        FloatVector t = clampExpArgument(sum).fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(NEG_LN2_HI, a).add(b);
        r = n.fma(NEG_LN2_LO, r);
        return series(r).mul(twoTo(t)).blend(0f, sum.lt(EXP_LO));
    }

    /**
     * x clamped to [EXP_LO, EXP_HI], NaN kept: the same values as {@code x.max(EXP_LO).min(EXP_HI)}, by compare and
     * blend. Why: the Vector API's max/min follow Math.max/min (NaN and signed zeros), which C2 emits as a
     * multi-instruction sequence. With this and the four-chain column max of FlashAttention, a softmax pass went
     * from 40-50 to 24-25 cycles per 16 scores on Zen 4 (docs/BENCHMARKS.md, "Kernels (Java float)").
     */
    private static FloatVector clampExpArgument(FloatVector x) {
        return x.blend(EXP_LO, x.lt(EXP_LO)).blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
    }

    private static FloatVector series(FloatVector r) {
        FloatVector p = r.fma(E7, E6);
        p = p.fma(r, E5);
        p = p.fma(r, E4);
        p = p.fma(r, E3);
        p = p.fma(r, E2);
        p = p.fma(r, ONE);
        return p.fma(r, ONE);
    }

    /** 2^n from t = n + ROUNDER: n sits in the low mantissa bits of t; move it to the exponent field. */
    private static FloatVector twoTo(FloatVector t) {
        return t.reinterpretAsInts().add(127 - ROUNDER_BITS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
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
        FloatVector t = ONE.div(z.fma(0.5f, 1f));
        FloatVector p = t.fma(0.17087277f, -0.82215223f);
        p = p.fma(t, R7);
        p = p.fma(t, R6);
        p = p.fma(t, R5);
        p = p.fma(t, R4);
        p = p.fma(t, R3);
        p = p.fma(t, R2);
        p = p.fma(t, R1);
        p = p.fma(t, R0);
        // erfc(z) = t·e^(-z² + p). erfc falls like e^(-z²), so z² rounded in float (1e-6 relative at x = -4)
        // would show: use -z² = -x²/2 with x² = hi + lo exactly (lo from an FMA); -hi/2 is exact
        FloatVector hi = x.mul(x);
        FloatVector lo = x.fma(x, hi.neg());
        FloatVector halfErfc = t.mul(expOfSum(hi.mul(-0.5f), p.sub(lo.mul(0.5f)))).mul(0.5f);
        FloatVector phi = halfErfc.neg().add(1f).blend(halfErfc, x.lt(0f));
        return x.mul(phi);
    }
}
