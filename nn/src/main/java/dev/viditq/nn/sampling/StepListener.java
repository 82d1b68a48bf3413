package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/** Told after each step of a sampling loop, with the latent that step produced (progress bars, previews, tests). */
@FunctionalInterface
public interface StepListener {
    StepListener NONE = (step, latent) -> { };

    void stepDone(Step step, Tensor latent);

    /** This listener, then {@code next}. */
    default StepListener andThen(StepListener next) {
        return (step, latent) -> {
            stepDone(step, latent);
            next.stepDone(step, latent);
        };
    }
}
