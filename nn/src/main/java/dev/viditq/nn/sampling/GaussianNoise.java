package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * A stream of standard normal tensors: the initial latent, then the noise a stochastic sampler (IDDPM) draws at
 * each step, in that order. {@link SeededGaussian} is the deterministic implementation used by generation;
 * tests replay recorded noises through the same interface.
 */
@FunctionalInterface
public interface GaussianNoise {
    /** A new F32 tensor of {@code shape} filled with independent N(0, 1) values. */
    Tensor next(long... shape);
}
