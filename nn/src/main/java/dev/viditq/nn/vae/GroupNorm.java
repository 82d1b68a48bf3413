package dev.viditq.nn.vae;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;

/**
 * GroupNorm with affine parameters (eps 1e-6 throughout the diffusers VAE; torch's default 1e-5 in Open-Sora's
 * temporal VAE), optionally followed by SiLU.
 */
final class GroupNorm {
    static final float EPS = 1e-6f;

    private final Tensor gamma;
    private final Tensor beta;
    private final int groups;
    private final int channels;
    private final float eps;

    private GroupNorm(Tensor gamma, Tensor beta, int groups, float eps) {
        this.gamma = gamma;
        this.beta = beta;
        this.groups = groups;
        this.channels = gamma.size(0);
        this.eps = eps;
    }

    static GroupNorm load(Weights w, String key, int channels, int groups) {
        return load(w, key, channels, groups, EPS);
    }

    static GroupNorm load(Weights w, String key, int channels, int groups, float eps) {
        if (channels % groups != 0) throw new IllegalArgumentException(key + ": " + channels + " channels do not split into " + groups + " groups");
        return new GroupNorm(w.takeF32(key + ".weight", channels), w.takeF32(key + ".bias", channels), groups, eps);
    }

    /** A new, normalized map. */
    FeatureMap apply(FeatureMap x) {
        FeatureMap y = FeatureMap.allocate(x.channels, x.height, x.width);
        normalize(x, y);
        return y;
    }

    /** A new map: SiLU(GroupNorm(x)). */
    FeatureMap applySilu(FeatureMap x) {
        FeatureMap y = apply(x);
        KernelBackend.get().silu(y.data, y.size());
        return y;
    }

    /** x = SiLU(GroupNorm(x)), in place. */
    void applySiluInPlace(FeatureMap x) {
        normalize(x, x);
        KernelBackend.get().silu(x.data, x.size());
    }

    private void normalize(FeatureMap x, FeatureMap y) {
        if (x.channels != channels) throw new IllegalArgumentException("group norm over " + channels + " channels got " + x.describe());
        KernelBackend.get().groupNorm(x.data, channels, Math.toIntExact(x.spatial()), groups, gamma.data(), beta.data(), eps, y.data);
    }
}
