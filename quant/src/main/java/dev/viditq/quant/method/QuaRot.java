package dev.viditq.quant.method;

import dev.viditq.quant.config.QuantConfig;

/**
 * QuaRot-style rotation only: each quantized layer's input is multiplied by a randomized Hadamard matrix (fused into
 * the per-token quantizer), its weight by the same matrix offline, which spreads outlier channels over all channels.
 * No balancing; activations per-token dynamic (static ranges cannot bound a rotated input from channel maxima).
 */
public final class QuaRot extends PlanningMethod {
    @Override
    public QuantConfig.Method id() {
        return QuantConfig.Method.QUAROT;
    }

    @Override
    float balance(float actMax, float weightMax, double alpha) {
        throw new IllegalStateException("QuaRot does not balance");
    }
}
