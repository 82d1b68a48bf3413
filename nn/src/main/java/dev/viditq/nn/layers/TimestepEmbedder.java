package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;

import java.util.List;

/**
 * Scalar → vector embedding shared by every family: the {@link SinCos#timestep} sinusoid, then
 * Linear, SiLU, Linear. Used for diffusion timesteps and, per scalar, for PixArt's size / aspect-ratio
 * micro-conditions ({@link #embedScalars}).
 */
public final class TimestepEmbedder {
    /** Width of the sinusoid when the checkpoint does not say otherwise (all official models). */
    public static final int DEFAULT_FREQUENCY_DIM = 256;

    private final Linear first;
    private final Linear second;
    private final int freqShift;

    public TimestepEmbedder(Linear first, Linear second, int freqShift) {
        if (second.inFeatures() != first.outFeatures()) {
            throw new IllegalArgumentException(second.name() + " does not take the output of " + first.name());
        }
        this.first = first;
        this.second = second;
        this.freqShift = freqShift;
    }

    /**
     * Loads the two linears {@code firstKey} [width, freq] and {@code secondKey} [width, width]; the sinusoid width
     * is read from the checkpoint (256 in every official model).
     */
    public static TimestepEmbedder load(Weights w, String firstKey, String secondKey, int width) {
        int freq = w.storedDim(firstKey + ".weight", 1, DEFAULT_FREQUENCY_DIM);
        return new TimestepEmbedder(Linear.load(w, firstKey, freq, width), Linear.load(w, secondKey, width, width), 0);
    }

    public int width() {
        return second.outFeatures();
    }

    public List<Linear> linears() {
        return List.of(first, second);
    }

    /** [n] scalars → [n, width]. */
    public Tensor embed(float[] t) {
        int freq = first.inFeatures();
        Tensor h = first.forward(Tensor.of(SinCos.timestep(t, freq, freqShift), t.length, freq));
        KernelBackend.get().silu(h.data(), h.numel());
        return second.forward(h);
    }

    /**
     * PixArt's SizeEmbedder: scalars [b, d] (row-major) → [b, d·width], each scalar embedded on its own and the
     * d embeddings of a row concatenated.
     */
    public Tensor embedScalars(float[] scalars, int b, int d) {
        if (scalars.length != b * d) throw new IllegalArgumentException(scalars.length + " scalars for " + b + "×" + d);
        return embed(scalars).reshape(b, (long) d * width());
    }
}
