package dev.viditq.nn.layers;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.Tensor;

import java.util.List;

/**
 * Two linears with an activation between: the transformer MLP (fc1 H→4H, GELU-tanh, fc2) and PixArt's caption
 * projection (Dt→H, GELU-tanh, H→H) alike.
 */
public final class Mlp {
    private final Linear first;
    private final Linear second;
    private final Activation activation;

    public Mlp(Linear first, Linear second, Activation activation) {
        if (second.inFeatures() != first.outFeatures()) {
            throw new IllegalArgumentException(second.name() + " does not take the output of " + first.name());
        }
        this.first = first;
        this.second = second;
        this.activation = activation;
    }

    /** {@code firstKey} [hidden, in] and {@code secondKey} [out, hidden], with biases. */
    public static Mlp load(Weights w, String firstKey, String secondKey, int in, int hidden, int out, Activation act) {
        return new Mlp(Linear.load(w, firstKey, in, hidden), Linear.load(w, secondKey, hidden, out), act);
    }

    public List<Linear> linears() {
        return List.of(first, second);
    }

    /** The Linear that reads the MLP's input (fc1 / ff.net.0.proj). */
    public Linear inputLinear() {
        return first;
    }

    /** The first linear applies the activation to its own outputs (a quantized one in its GEMM's epilogue). */
    public Tensor forward(Tensor x) {
        return second.forward(first.forwardActivated(x, activation));
    }
}
