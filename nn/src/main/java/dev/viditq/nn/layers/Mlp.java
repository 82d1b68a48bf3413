package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;

import java.util.List;

/**
 * Two linears with an activation between: the transformer MLP (fc1 H→4H, GELU-tanh, fc2) and PixArt's caption
 * projection (Dt→H, GELU-tanh, H→H) alike.
 */
public final class Mlp {
    /** The activations the official configs name. */
    public enum Activation {
        GELU_TANH, GELU_ERF;

        /** diffusers' {@code activation_fn} names: "gelu-approximate" (tanh) and "gelu" (erf). */
        public static Activation fromDiffusers(String name) {
            return switch (name) {
                case "gelu-approximate" -> GELU_TANH;
                case "gelu" -> GELU_ERF;
                default -> throw new IllegalArgumentException("activation_fn '" + name
                        + "' is not supported (PixArt and Latte use \"gelu-approximate\")");
            };
        }
    }

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

    public Tensor forward(Tensor x) {
        Tensor h = first.forward(x);
        switch (activation) {
            case GELU_TANH -> KernelBackend.get().geluTanh(h.data(), h.numel());
            case GELU_ERF -> KernelBackend.get().geluErf(h.data(), h.numel());
        }
        return second.forward(h);
    }
}
