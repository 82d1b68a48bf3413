package dev.viditq.quant.method;

import dev.viditq.quant.config.QuantConfig;

/**
 * Naive PTQ, the baseline the paper shows failing on DiTs: min/max weights (per tensor or per output channel) and
 * activation ranges as the config says — static per-tensor ranges from calibration (one set, or one per timestep,
 * optionally per CFG half), or dynamic. No balancing, no rotation (the config reader refuses them for this method).
 */
public final class NaivePtq extends PlanningMethod {
    @Override
    public QuantConfig.Method id() {
        return QuantConfig.Method.NAIVE;
    }

    @Override
    float balance(float actMax, float weightMax, double alpha) {
        throw new IllegalStateException("naive PTQ does not balance");
    }
}
