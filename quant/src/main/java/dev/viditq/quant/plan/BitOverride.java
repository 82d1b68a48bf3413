package dev.viditq.quant.plan;

import dev.viditq.nn.pipeline.StepContext;

/**
 * One bit-map rule as it applies to one layer: in its step range (all steps when both ranges are null) it sets the
 * weight bits, the activation bits (null: unchanged) or keeps the layer float. Rules are applied in order, later
 * ones winning.
 *
 * @param steps     step indices [first, end), or null
 * @param timesteps model times [low, high] inclusive, or null
 */
public record BitOverride(Integer weightBits, Integer activationBits, boolean keepFloat, int[] steps, double[] timesteps) {
    public boolean allSteps() {
        return steps == null && timesteps == null;
    }

    /** True when the rule holds for the forward pass of {@code ctx} (outside a sampling loop only all-step rules hold). */
    public boolean covers(StepContext ctx) {
        if (allSteps()) return true;
        if (!ctx.active()) return false;
        if (steps != null) return ctx.stepIndex() >= steps[0] && ctx.stepIndex() < steps[1];
        return ctx.timestep() >= timesteps[0] && ctx.timestep() <= timesteps[1];
    }

    /** {@code p} with this rule applied; {@code fallback} supplies bits a float precision lacks. */
    public Precision apply(Precision p, Precision fallback) {
        if (keepFloat) return Precision.FLOAT;
        Precision from = p.isFloat() ? fallback : p;
        return new Precision(weightBits != null ? weightBits : from.weightBits(),
                activationBits != null ? activationBits : from.activationBits());
    }
}
