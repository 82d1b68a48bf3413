package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * diffusers {@code DPMSolverMultistepScheduler}, algorithm dpmsolver++ (data prediction), midpoint solver, order
 * 1 or 2, ending at σ = 0 ({@code final_sigmas_type: zero}). Differs from PixArt's own DPM-Solver
 * ({@link PixArtDpmSolver}) in its integer timesteps, σ-parameterised update and first-order last step.
 *
 * <p>With σ_i = sqrt((1−ᾱ)/ᾱ) at timestep i, α = 1/sqrt(σ²+1), s = σ·α, λ = ln α − ln s, the model output is turned
 * into x0 = (x − s_i·ε)/α_i and, with h = λ_{i+1} − λ_i:
 * first order x ← (s_{i+1}/s_i)·x − α_{i+1}(e^{−h} − 1)·x0;
 * second order adds −½·α_{i+1}(e^{−h} − 1)·D1 with D1 = (x0_i − x0_{i−1})·h/(λ_i − λ_{i−1}).
 */
public final class DpmSolverMultistepSampler implements Sampler {
    /**
     * The supported subset of the scheduler config. lower_order_final and euler_at_final need no field: with
     * order ≤ 2 and the final σ = 0, diffusers takes a first-order last step whatever they say.
     *
     * @param order solver_order, 1 or 2
     */
    public record Config(NoiseSchedule schedule, int order, TimestepSpacing spacing, int stepsOffset) {
        public static final Config DEFAULT = new Config(NoiseSchedule.DEFAULT, 2, TimestepSpacing.LINSPACE, 0);

        public Config {
            if (order != 1 && order != 2) throw new IllegalArgumentException("solver_order " + order + " is not supported (1 or 2)");
        }
    }

    private final Config config;
    private final double[] alphasCumprod;

    public DpmSolverMultistepSampler(Config config) {
        this.config = config;
        this.alphasCumprod = config.schedule().alphasCumprod();
    }

    @Override public String name() { return "dpmpp-2m"; }
    @Override public Prediction prediction() { return Prediction.EPSILON; }

    /** The integer timesteps of diffusers' {@code set_timesteps} (λ never clipped), highest first. */
    public long[] timesteps(int steps) {
        return config.spacing().descending(config.schedule().trainSteps(), steps, steps + 1, config.stepsOffset(), name());
    }

    @Override
    public double[] modelTimes(int steps) {
        return TimestepSpacing.asModelTimes(timesteps(steps));
    }

    /** σ at each timestep followed by the final σ = 0. */
    double[] sigmas(long[] timesteps) {
        double[] s = new double[timesteps.length + 1];
        for (int i = 0; i < timesteps.length; i++) {
            double a = alphasCumprod[(int) timesteps[i]];
            s[i] = Math.sqrt((1 - a) / a);
        }
        return s;
    }

    @Override
    public Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener) {
        Latents.requireLatent(noise);
        long[] shape = noise.shape();
        long[] ts = timesteps(steps);
        double[] sigmas = sigmas(ts);
        double[] x = Latents.toDoubles(noise);
        double[] previousX0 = null;
        for (int i = 0; i < steps; i++) {
            Step step = new Step(i, steps, ts[i]);
            double[] eps = Latents.split(model.predict(Latents.toTensor(x, shape), step), shape).prediction();
            double[] x0 = dataPrediction(x, eps, sigmas[i]);
            boolean last = i == steps - 1;
            // the step to σ = 0 is always first order in diffusers (final_sigmas_type zero)
            boolean firstOrder = config.order() == 1 || previousX0 == null || last;
            if (firstOrder) {
                firstOrderUpdate(x, x0, sigmas[i], sigmas[i + 1]);
            } else {
                secondOrderUpdate(x, x0, previousX0, sigmas[i - 1], sigmas[i], sigmas[i + 1]);
            }
            previousX0 = x0;
            listener.stepDone(step, Latents.toTensor(x, shape));
        }
        return Latents.toTensor(x, shape);
    }

    private static double alphaOf(double sigma) {
        return 1.0 / Math.sqrt(sigma * sigma + 1.0);
    }

    /** λ = ln α − ln(σ·α) = −ln σ; +∞ at σ = 0. */
    private static double lambdaOf(double sigma) {
        double alpha = alphaOf(sigma);
        return Math.log(alpha) - Math.log(sigma * alpha);
    }

    private static double[] dataPrediction(double[] x, double[] eps, double sigma) {
        double alpha = alphaOf(sigma), s = sigma * alpha;
        double[] x0 = new double[x.length];
        for (int k = 0; k < x.length; k++) x0[k] = (x[k] - s * eps[k]) / alpha;
        return x0;
    }

    private static void firstOrderUpdate(double[] x, double[] x0, double sigmaFrom, double sigmaTo) {
        if (sigmaTo == 0) { // h = +∞: the update lands exactly on the data prediction
            System.arraycopy(x0, 0, x, 0, x.length);
            return;
        }
        double alphaTo = alphaOf(sigmaTo), sTo = sigmaTo * alphaTo, sFrom = sigmaFrom * alphaOf(sigmaFrom);
        double h = lambdaOf(sigmaTo) - lambdaOf(sigmaFrom);
        double ratio = sTo / sFrom, coef = alphaTo * (Math.exp(-h) - 1.0);
        for (int k = 0; k < x.length; k++) x[k] = ratio * x[k] - coef * x0[k];
    }

    private static void secondOrderUpdate(double[] x, double[] x0, double[] x0Prev,
                                          double sigmaPrev, double sigmaFrom, double sigmaTo) {
        double alphaTo = alphaOf(sigmaTo), sTo = sigmaTo * alphaTo, sFrom = sigmaFrom * alphaOf(sigmaFrom);
        double lambdaTo = lambdaOf(sigmaTo), lambdaFrom = lambdaOf(sigmaFrom), lambdaPrev = lambdaOf(sigmaPrev);
        double h = lambdaTo - lambdaFrom;
        double r0 = (lambdaFrom - lambdaPrev) / h;
        double ratio = sTo / sFrom, coef = alphaTo * (Math.exp(-h) - 1.0);
        for (int k = 0; k < x.length; k++) {
            double d1 = (x0[k] - x0Prev[k]) / r0;
            x[k] = ratio * x[k] - coef * x0[k] - 0.5 * coef * d1;
        }
    }
}
