package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;

/** LayerNorm over the channel dimension, with or without affine parameters (the blocks' norms have none). */
public final class LayerNorm {
    private final Tensor gamma;
    private final Tensor beta;
    private final float eps;

    public LayerNorm(Tensor gamma, Tensor beta, float eps) {
        this.gamma = gamma == null ? null : gamma.toF32();
        this.beta = beta == null ? null : beta.toF32();
        this.eps = eps;
    }

    public static LayerNorm plain(float eps) {
        return new LayerNorm(null, null, eps);
    }

    /** {@code key.weight} and {@code key.bias} [dim] when {@code affine}, else no parameters. */
    public static LayerNorm load(Weights w, String key, int dim, boolean affine, float eps) {
        if (!affine) return plain(eps);
        return new LayerNorm(w.takeF32(key + ".weight", dim), w.takeF32(key + ".bias", dim), eps);
    }

    /** A normalised copy of {@code x}. */
    public Tensor forward(Tensor x) {
        return Rows.layerNorm(x, gamma, beta, eps);
    }

    /** Whether it scales and shifts by parameters of its own (elementwise affine). */
    public boolean affine() {
        return gamma != null || beta != null;
    }

    public float eps() {
        return eps;
    }
}
