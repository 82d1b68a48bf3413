package dev.viditq.core.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The activation between an MLP's two linears. A linear may apply it to its own outputs
 * ({@code Linear.forwardActivated(x, activation)}): a quantized layer's integer GEMM then computes it in its epilogue, on
 * outputs still in registers, instead of a pass of its own over them; everything else runs {@link #applyInPlace}
 * after the GEMM.
 */
public enum Activation {
    /** GELU, tanh approximation (diffusers' "gelu-approximate", PyTorch's {@code approximate="tanh"}). */
    GELU_TANH,
    /** Exact GELU, x·Φ(x) (diffusers' "gelu"). */
    GELU_ERF;

    /** diffusers' {@code activation_fn} names: "gelu-approximate" (tanh) and "gelu" (erf). */
    public static Activation fromDiffusers(String name) {
        return switch (name) {
            case "gelu-approximate" -> GELU_TANH;
            case "gelu" -> GELU_ERF;
            default -> throw new IllegalArgumentException("activation_fn '" + name
                    + "' is not supported (PixArt and Latte use \"gelu-approximate\")");
        };
    }

    /** x[0, n) = activation(x) with {@code kernels}. */
    public void applyInPlace(Kernels kernels, MemorySegment x, long n) {
        switch (this) {
            case GELU_TANH -> kernels.geluTanh(x, n);
            case GELU_ERF -> kernels.geluErf(x, n);
        }
    }
}
