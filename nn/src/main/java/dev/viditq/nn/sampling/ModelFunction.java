package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * The network as a sampler sees it, classifier-free guidance already applied by the caller.
 * Input {@code x} is the current latent [B, C, ...] (F32). The output is [B, C, ...] holding the prediction the
 * sampler asks for ({@link Sampler#prediction()}: noise ε or flow velocity), or [B, 2C, ...] for a model with
 * learned sigma, whose channels C..2C-1 are the variance values v ∈ [-1, 1] (used by IDDPM, ignored by the others).
 */
@FunctionalInterface
public interface ModelFunction {
    Tensor predict(Tensor x, Step step);
}
