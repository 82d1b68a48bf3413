package dev.viditq.quant.method;

import dev.viditq.quant.config.QuantConfig;

/**
 * ViDiT-Q: per-output-channel weights, per-token dynamic activations and static-dynamic channel balancing — the
 * static mask m_j = max|W[:, j]|^α / act_max_j^(1−α) (α, the weight exponent, is the config's balancing.alpha;
 * act_max over all calibration prompts, steps and CFG halves) followed by a randomized Hadamard rotation:
 * x' = (x ⊙ m)·H online (fused into the quantizer), W' = (W / m)·H offline, quantized once after both.
 */
public final class ViDiTQ extends PlanningMethod {
    @Override
    public QuantConfig.Method id() {
        return QuantConfig.Method.VIDITQ;
    }

    @Override
    float balance(float actMax, float weightMax, double alpha) {
        return (float) (Math.pow(weightMax, alpha) / Math.pow(actMax, 1 - alpha));
    }
}
