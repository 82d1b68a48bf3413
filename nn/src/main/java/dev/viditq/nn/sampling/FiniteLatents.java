package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.NonFinite;
import dev.viditq.core.tensor.Tensor;

/**
 * Stops sampling at the first step whose latent holds a NaN or an infinity. Such a latent never recovers (every
 * later step and the VAE propagate it), and written out it becomes a blank or black image at exit 0, which looks
 * like a result; the error instead says where it began. One pass over the latent per step (microseconds against a
 * forward pass).
 */
public final class FiniteLatents {
    private FiniteLatents() {}

    /** Raised when a latent or the decoded output stops being finite. */
    public static final class NonFiniteException extends IllegalStateException {
        NonFiniteException(String message) {
            super(message);
        }
    }

    /** {@code listener}, after checking each step's latent. */
    public static StepListener checking(StepListener listener) {
        return (step, latent) -> {
            require(latent, "the latent after sampling step " + (step.index() + 1) + " of " + step.total());
            listener.stepDone(step, latent);
        };
    }

    /** Throws naming {@code what} when {@code t} holds a NaN or an infinity. */
    public static void require(Tensor t, String what) {
        long at = NonFinite.first(t);
        if (at >= 0) {
            throw new NonFiniteException(what + " holds " + t.getFloat(at) + " (element " + at + "): the model's weights,"
                    + " its inputs or its numerics are broken, so no image is written");
        }
    }
}
