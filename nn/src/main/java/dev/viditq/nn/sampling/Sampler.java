package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * A reverse-diffusion (or flow) integrator: from the initial noise to the final latent, calling the model once
 * per step. Schedule math is float64; the latent state is kept in float64 between steps and handed to the model
 * as F32. Implementations are stateless between runs (one instance may serve many {@link #sample} calls).
 */
public interface Sampler {
    /** The name accepted by {@link Samplers#create} and {@code ./viditq generate --sampler}. */
    String name();

    /** What {@link ModelFunction#predict} must return for this sampler. */
    Prediction prediction();

    /**
     * The time the model receives at each step of a {@code steps}-step run, in call order (length {@code steps}).
     * Lets callers plan per-timestep work (calibration, timestep-dependent bit maps) before sampling.
     */
    double[] modelTimes(int steps);

    /**
     * Runs the whole loop.
     *
     * @param model    the guided model function
     * @param noise    the initial latent x_T, [B, C, ...]; not modified
     * @param steps    number of denoising steps (= model calls)
     * @param rng      source of the per-step noise of stochastic samplers (unused by deterministic ones)
     * @param listener told after each step
     * @return the final latent, a new F32 tensor of the shape of {@code noise}
     */
    Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener);
}
