package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sampler properties derived by hand (the golden folder checks the trajectories against the reference code).
 * The central one: with an oracle model that returns the exact ε of a fixed x0 — ε = (x − α_t·x0)/σ_t — every
 * DPM-Solver++ and DDIM update is exact, whatever its order, so the run must land on α_end·x0 + σ_end·ε0.
 */
class SamplersTest {
    private static final double[] X0 = {0.5, -1.25, 0.0, 2.0, -0.3, 0.7, 1.1, -2.2};
    private static final long[] SHAPE = {1, 2, 2, 2};

    private static Tensor tensor(double[] v) {
        return Latents.toTensor(v, SHAPE);
    }

    /** ε such that x = α·x0 + σ·ε, with α(t) from the sampler's own schedule at model time t. */
    private static ModelFunction oracle(DoubleUnaryOperator alphaAt) {
        return (x, step) -> {
            double a = alphaAt.applyAsDouble(step.modelTime()), s = Math.sqrt(1 - a * a);
            double[] v = Latents.toDoubles(x), eps = new double[v.length];
            for (int i = 0; i < v.length; i++) eps[i] = (v[i] - a * X0[i]) / s;
            return Latents.toTensor(eps, x.shape());
        };
    }

    private static double[] noise() {
        double[] n = new double[X0.length];
        SeededGaussian g = new SeededGaussian(7);
        for (int i = 0; i < n.length; i++) n[i] = g.nextGaussian();
        return n;
    }

    private static DoubleUnaryOperator discreteAlpha() {
        double[] ac = NoiseSchedule.DEFAULT.alphasCumprod();
        return t -> Math.sqrt(ac[(int) Math.round(t)]);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 20, 25})
    void diffusersDpmSolverLandsOnX0WithAnExactModel(int steps) {
        // start from x_T = α_T·x0 + σ_T·n: the exact trajectory ends at σ = 0, i.e. on x0
        DpmSolverMultistepSampler s = new DpmSolverMultistepSampler(DpmSolverMultistepSampler.Config.DEFAULT);
        double aT = discreteAlpha().applyAsDouble(s.timesteps(steps)[0]);
        Tensor out = s.sample(oracle(discreteAlpha()), tensor(mix(aT, noise())), steps, null, StepListener.NONE);
        assertArrayEquals(X0, Latents.toDoubles(out), 1e-4);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 10, 50})
    void ddimLandsOnX0WithAnExactModel(int steps) {
        DdimSampler s = new DdimSampler(DdimSampler.Config.DEFAULT); // set_alpha_to_one: ᾱ_final = 1
        double aT = discreteAlpha().applyAsDouble(s.timesteps(steps)[0]);
        Tensor out = s.sample(oracle(discreteAlpha()), tensor(mix(aT, noise())), steps, null, StepListener.NONE);
        assertArrayEquals(X0, Latents.toDoubles(out), 1e-4);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 5, 9, 10, 20})
    void pixartDpmSolverStaysOnTheExactPath(int steps) {
        // covers the first-order start, the second-order middle and, below 10 steps, the lower-order end
        PixArtDpmSolver s = new PixArtDpmSolver();
        DoubleUnaryOperator alphaAtModelTime = mt -> s.alpha(mt / 1000.0 + 1e-3);
        double[] n = noise();
        Tensor out = s.sample(oracle(alphaAtModelTime), tensor(mix(s.alpha(1.0), n)), steps, null, StepListener.NONE);
        double aEnd = s.alpha(1e-3), sEnd = s.sigma(1e-3);
        double[] got = Latents.toDoubles(out);
        for (int i = 0; i < X0.length; i++) assertEquals(aEnd * X0[i] + sEnd * n[i], got[i], 1e-4, "element " + i);
    }

    private static double[] mix(double alpha, double[] n) {
        double sigma = Math.sqrt(1 - alpha * alpha);
        double[] x = new double[X0.length];
        for (int i = 0; i < x.length; i++) x[i] = alpha * X0[i] + sigma * n[i];
        return x;
    }

    @Test
    void pixartModelTimesFollowTheLinearContinuousGrid() {
        double[] t = new PixArtDpmSolver().modelTimes(4); // t = 1, 0.75025, 0.5005, 0.25075 → 1000·(t − 0.001)
        assertArrayEquals(new double[]{999, 749.25, 499.5, 249.75}, t, 1e-9);
        assertThrows(IllegalArgumentException.class, () -> new PixArtDpmSolver().modelTimes(1), "order 2 needs 2 steps");
    }

    @Test
    void rectifiedFlowIsExactOnAStraightPath() {
        // v(x, t) = (x0 − x)/s with s = t/1000 is the velocity of the straight line from noise to x0: Euler is exact
        RectifiedFlowSampler s = new RectifiedFlowSampler(1000, 2.0);
        ModelFunction straight = (x, step) -> {
            double frac = step.modelTime() / 1000.0;
            double[] v = Latents.toDoubles(x);
            for (int i = 0; i < v.length; i++) v[i] = (X0[i] - v[i]) / frac;
            return Latents.toTensor(v, x.shape());
        };
        Tensor out = s.sample(straight, tensor(noise()), 7, null, StepListener.NONE);
        assertArrayEquals(X0, Latents.toDoubles(out), 1e-5);
    }

    @Test
    void rectifiedFlowTwoShiftedStepsByHand() {
        // shift r = 2: times 1000 and 1000·(2·0.5/(1 + 0.5)) = 666.67; with v = a·x:
        // x1 = x0·(1 + a·(1000 − 666.67)/1000), x2 = x1·(1 + a·666.67/1000)
        RectifiedFlowSampler s = new RectifiedFlowSampler(1000, 2.0);
        assertArrayEquals(new double[]{1000, 2000.0 / 3}, s.modelTimes(2), 1e-9);
        double a = 0.8;
        ModelFunction linear = (x, step) -> Latents.toTensor(scale(Latents.toDoubles(x), a), x.shape());
        double[] start = noise();
        double[] got = Latents.toDoubles(s.sample(linear, tensor(start), 2, null, StepListener.NONE));
        double factor = (1 + a / 3) * (1 + 2 * a / 3);
        for (int i = 0; i < start.length; i++) assertEquals((float) start[i] * factor, got[i], 1e-5);
        assertEquals(Prediction.VELOCITY, s.prediction());
    }

    @Test
    void openSoraShiftFromResolutionAndFrames() {
        assertEquals(1.0, RectifiedFlowSampler.openSoraShift(512, 512, 1), 1e-12);
        assertEquals(2.0, RectifiedFlowSampler.openSoraShift(1024, 1024, 1), 1e-12);
        assertEquals(Math.sqrt(15), RectifiedFlowSampler.openSoraShift(512, 512, 51), 1e-12); // 51 // 17 · 5 = 15
        assertThrows(IllegalArgumentException.class, () -> RectifiedFlowSampler.openSoraShift(512, 512, 8));
    }

    private static double[] scale(double[] v, double a) {
        for (int i = 0; i < v.length; i++) v[i] *= a;
        return v;
    }

    @Test
    void iddpmFixedLargeFirstOfTwoStepsByHand() {
        // respacing "2" keeps t = 0 and 999; the first step (t = 999) uses β' = 1 − ᾱ_999/ᾱ_0, ᾱ'_prev = ᾱ_0 and
        // adds sqrt(β')·z; with ε ≡ 0: x0 = x/sqrt(ᾱ_999), mean = (β'·sqrt(ᾱ_0)·x0 + (1 − ᾱ_0)·sqrt(1 − β')·x)/(1 − ᾱ_999)
        double[] ac = NoiseSchedule.DEFAULT.alphasCumprod();
        double beta = 1 - ac[999] / ac[0];
        IddpmSampler s = new IddpmSampler(NoiseSchedule.DEFAULT, IddpmSampler.Variance.FIXED_LARGE);
        assertArrayEquals(new double[]{999, 0}, s.modelTimes(2));
        double[] start = noise();
        double[] z = {0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8};
        double[][] first = new double[1][];
        ModelFunction zero = (x, step) -> Tensor.zeros(x.shape());
        s.sample(zero, tensor(start), 2, shape -> tensor(z), (step, latent) -> {
            if (step.index() == 0) first[0] = Latents.toDoubles(latent);
        });
        for (int i = 0; i < start.length; i++) {
            double x = (float) start[i];
            double x0 = x / Math.sqrt(ac[999]);
            double mean = (beta * Math.sqrt(ac[0]) * x0 + (1 - ac[0]) * Math.sqrt(1 - beta) * x) / (1 - ac[999]);
            assertEquals(mean + Math.sqrt(beta) * (float) z[i], first[0][i], 1e-5);
        }
    }

    @Test
    void iddpmLearnedSigmaNeedsVarianceChannels() {
        ModelFunction epsOnly = (x, step) -> Tensor.zeros(x.shape());
        var e = assertThrows(IllegalArgumentException.class, () -> new IddpmSampler()
                .sample(epsOnly, tensor(noise()), 3, new SeededGaussian(1), StepListener.NONE));
        assertTrue(e.getMessage().contains("2C"), e.getMessage());
    }

    @Test
    void spaceTimestepsRoundsHalfToEven() {
        // 999/24 = 41.625 per step: 41.625 → 42, 83.25 → 83, 124.875 → 125, ..., 999
        int[] kept = IddpmSampler.spaceTimesteps(1000, 25);
        assertEquals(25, kept.length);
        assertArrayEquals(new int[]{0, 42, 83, 125, 166}, java.util.Arrays.copyOf(kept, 5));
        assertEquals(999, kept[24]);
        // two sections of 500: 3 of [0, 500) at stride 249.5 → 0, 250 (249.5 rounds to even), 499; 2 of [500, 1000)
        assertArrayEquals(new int[]{0, 250, 499, 500, 999}, IddpmSampler.spaceTimesteps(1000, 3, 2));
        assertThrows(IllegalArgumentException.class, () -> IddpmSampler.spaceTimesteps(10, 11));
    }

    @Test
    void diffusersTimestepSpacings() {
        // DPM-Solver: N+1 points, the last dropped. linspace(0, 999, 5) = 0, 249.75, 499.5, 749.25, 999 → rounded half-even
        var linear = new DpmSolverMultistepSampler(DpmSolverMultistepSampler.Config.DEFAULT);
        assertArrayEquals(new long[]{999, 749, 500, 250}, linear.timesteps(4));
        // leading: ratio 1000 // 4 = 250 → 750, 500, 250 (0 dropped), + steps_offset 1
        var leading = new DpmSolverMultistepSampler(new DpmSolverMultistepSampler.Config(NoiseSchedule.DEFAULT, 2, TimestepSpacing.LEADING, 1));
        assertArrayEquals(new long[]{751, 501, 251}, leading.timesteps(3));
        // DDIM: N points. leading ratio 1000 // 3 = 333; trailing round(arange(1000, 0, -250)) − 1; linspace(0, 999, 4)
        assertArrayEquals(new long[]{666, 333, 0}, ddim(TimestepSpacing.LEADING, 0).timesteps(3));
        assertArrayEquals(new long[]{999, 749, 499, 249}, ddim(TimestepSpacing.TRAILING, 0).timesteps(4));
        assertArrayEquals(new long[]{999, 666, 333, 0}, ddim(TimestepSpacing.LINSPACE, 0).timesteps(4));
        // numpy.arange(1000, 0, -1000/61) has 62 elements: refused rather than reproduced
        assertThrows(IllegalArgumentException.class, () -> ddim(TimestepSpacing.TRAILING, 0).timesteps(61));
        assertThrows(IllegalArgumentException.class, () -> ddim(TimestepSpacing.LEADING, 600).timesteps(2), "500 + 600 is out of range");
    }

    private static DdimSampler ddim(TimestepSpacing spacing, int offset) {
        return new DdimSampler(new DdimSampler.Config(NoiseSchedule.DEFAULT, spacing, offset, true));
    }

    @Test
    void seededGaussianIsReproducibleAndStandard() {
        SeededGaussian a = new SeededGaussian(42), b = new SeededGaussian(42), c = new SeededGaussian(43);
        int n = 200_000;
        double sum = 0, sumSq = 0;
        boolean differs = false;
        for (int i = 0; i < n; i++) {
            double v = a.nextGaussian();
            assertEquals(v, b.nextGaussian());
            differs |= v != c.nextGaussian();
            sum += v;
            sumSq += v * v;
        }
        assertTrue(differs);
        assertEquals(0, sum / n, 0.01);
        assertEquals(1, sumSq / n - (sum / n) * (sum / n), 0.01);
        Tensor t = new SeededGaussian(42).next(2, 3);
        SeededGaussian again = new SeededGaussian(42);
        for (int i = 0; i < 6; i++) assertEquals((float) again.nextGaussian(), t.getFloat(i));
    }

    @Test
    void samplerNamesAndErrors() {
        for (String name : Samplers.NAMES) assertEquals(name, Samplers.create(name, Samplers.Options.DEFAULT).name());
        var e = assertThrows(IllegalArgumentException.class, () -> Samplers.create("euler", Samplers.Options.DEFAULT));
        assertTrue(e.getMessage().contains("unknown sampler 'euler'") && e.getMessage().contains("dpm-solver"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Samplers.create("ddim", Samplers.Options.DEFAULT).modelTimes(0));
    }
}
