package dev.viditq.quant.runtime;

import java.util.Locale;

/**
 * How quantized Linears run: on the integer kernels ({@link dev.viditq.core.kernels.quant.IntKernelBackend}), or
 * simulated in float (quantize-dequantize of activations and weights, float GEMM) — the reference code's fake
 * quantization, for comparison. Chosen with {@code -Dviditq.quant.mode=simulate} (e.g. through VIDITQ_JAVA_OPTS for
 * ./viditq) or the environment variable VIDITQ_QUANT_MODE; the default is integer.
 */
public enum ExecutionMode {
    INTEGER, SIMULATE;

    public static ExecutionMode fromEnvironment() {
        String v = System.getProperty("viditq.quant.mode", System.getenv().getOrDefault("VIDITQ_QUANT_MODE", "integer"));
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "integer", "int", "real" -> INTEGER;
            case "simulate", "simulated", "fake" -> SIMULATE;
            default -> throw new IllegalArgumentException("viditq.quant.mode is '" + v + "'; use integer or simulate");
        };
    }
}
