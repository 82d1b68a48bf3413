package dev.viditq.nn.vae;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.Weights;

/**
 * The mid-block attention of the diffusers VAE: GroupNorm, then single-head self-attention over the h·w spatial
 * tokens (scale 1/√C), output projection, residual. Keys are {@code to_q/to_k/to_v/to_out.0} or, in older
 * checkpoints, {@code query/key/value/proj_attn}.
 */
final class VaeAttention {
    private final GroupNorm norm;
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;
    private final int channels;

    VaeAttention(Weights w, String key, int channels, int groups) {
        this.channels = channels;
        norm = GroupNorm.load(w, key + ".group_norm", channels, groups);
        boolean legacy = !w.has(key + ".to_q.weight") && w.has(key + ".query.weight");
        q = Linear.load(w, key + (legacy ? ".query" : ".to_q"), channels, channels);
        k = Linear.load(w, key + (legacy ? ".key" : ".to_k"), channels, channels);
        v = Linear.load(w, key + (legacy ? ".value" : ".to_v"), channels, channels);
        out = Linear.load(w, key + (legacy ? ".proj_attn" : ".to_out.0"), channels, channels);
    }

    /** A new map; {@code x} is left to the caller. */
    FeatureMap forward(FeatureMap x) {
        int n = Math.toIntExact(x.spatial());
        Tensor tokens = Tensor.zeros(n, channels);
        try (FeatureMap normed = norm.apply(x)) {
            FeatureMap.transpose(normed.data, channels, n, tokens.data()); // [C, n] → [n, C]
        }
        Tensor qt = q.forward(tokens), kt = k.forward(tokens), vt = v.forward(tokens);
        Tensor attended = Tensor.zeros(n, channels);
        KernelBackend.get().attention(qt.data(), channels, kt.data(), channels, vt.data(), channels,
                attended.data(), channels, n, n, 1, channels, (float) (1.0 / Math.sqrt(channels)), AttentionBias.NONE);
        Tensor projected = out.forward(attended);
        FeatureMap y = FeatureMap.allocate(channels, x.height, x.width);
        FeatureMap.transpose(projected.data(), n, channels, y.data); // back to [C, n]
        y.add(x);
        return y;
    }
}
