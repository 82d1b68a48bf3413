package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * diffusers {@code DDIMScheduler} with η = 0 (deterministic), ε-prediction:
 * x0 = (x_t − sqrt(1−ᾱ_t)·ε)/sqrt(ᾱ_t), x_prev = sqrt(ᾱ_prev)·x0 + sqrt(1−ᾱ_prev)·ε, where prev = t − T/N
 * (integer division, whatever the spacing — as diffusers does) and ᾱ_prev for prev &lt; 0 is 1 with
 * {@code set_alpha_to_one}, else ᾱ_0.
 */
public final class DdimSampler implements Sampler {
    /** The supported subset of the scheduler config; {@link DiffusersSchedulerConfig} builds it from JSON. */
    public record Config(NoiseSchedule schedule, TimestepSpacing spacing, int stepsOffset, boolean setAlphaToOne) {
        public static final Config DEFAULT = new Config(NoiseSchedule.DEFAULT, TimestepSpacing.LEADING, 0, true);
    }

    private final Config config;
    private final double[] alphasCumprod;

    public DdimSampler(Config config) {
        this.config = config;
        this.alphasCumprod = config.schedule().alphasCumprod();
    }

    @Override public String name() { return "ddim"; }
    @Override public Prediction prediction() { return Prediction.EPSILON; }

    /** The integer timesteps diffusers' {@code set_timesteps} produces, highest first. */
    public long[] timesteps(int steps) {
        return config.spacing().descending(config.schedule().trainSteps(), steps, steps, config.stepsOffset(), name());
    }

    @Override
    public double[] modelTimes(int steps) {
        return TimestepSpacing.asModelTimes(timesteps(steps));
    }

    @Override
    public Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener) {
        Latents.requireLatent(noise);
        long[] shape = noise.shape();
        long[] ts = timesteps(steps);
        int stride = config.schedule().trainSteps() / steps;
        double[] x = Latents.toDoubles(noise);
        for (int i = 0; i < steps; i++) {
            Step step = new Step(i, steps, ts[i]);
            double[] eps = Latents.split(model.predict(Latents.toTensor(x, shape), step), shape).prediction();
            double alpha = alphasCumprod[(int) ts[i]];
            long prev = ts[i] - stride;
            double alphaPrev = prev >= 0 ? alphasCumprod[(int) prev] : (config.setAlphaToOne() ? 1.0 : alphasCumprod[0]);
            double sqrtAlpha = Math.sqrt(alpha), sqrtOneMinus = Math.sqrt(1 - alpha);
            double sqrtAlphaPrev = Math.sqrt(alphaPrev), sqrtOneMinusPrev = Math.sqrt(1 - alphaPrev);
            for (int k = 0; k < x.length; k++) {
                double x0 = (x[k] - sqrtOneMinus * eps[k]) / sqrtAlpha;
                x[k] = sqrtAlphaPrev * x0 + sqrtOneMinusPrev * eps[k];
            }
            listener.stepDone(step, Latents.toTensor(x, shape));
        }
        return Latents.toTensor(x, shape);
    }
}
