package dev.viditq.quant.method;

import dev.viditq.quant.config.QuantConfig;

/**
 * SmoothQuant (Xiao et al.): per-input-channel smoothing factor s_j = max|X_j|^α / max|W_j|^(1−α) (α, the
 * migration strength, is the config's balancing.alpha); activations are divided by s, weights multiplied — here
 * expressed as the balancing vector m = 1/s that multiplies x. No rotation.
 */
public final class SmoothQuant extends PlanningMethod {
    @Override
    public QuantConfig.Method id() {
        return QuantConfig.Method.SMOOTHQUANT;
    }

    @Override
    float balance(float actMax, float weightMax, double alpha) {
        double s = Math.pow(actMax, alpha) / Math.pow(weightMax, 1 - alpha);
        return (float) (1 / s);
    }
}
