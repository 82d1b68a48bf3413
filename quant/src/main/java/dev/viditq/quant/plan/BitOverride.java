package dev.viditq.quant.plan;

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

    /**
     * True when the rule holds for the forward pass at sampling step {@code step} (0-based; negative outside a
     * sampling loop, where only all-step rules hold) with model time {@code timestep}.
     */
    public boolean covers(int step, double timestep) {
        if (allSteps()) return true;
        if (step < 0) return false;
        if (steps != null) return step >= steps[0] && step < steps[1];
        return timestep >= timesteps[0] && timestep <= timesteps[1];
    }

    /** {@code p} with this rule applied; {@code fallback} supplies bits a float precision lacks. */
    public Precision apply(Precision p, Precision fallback) {
        if (keepFloat) return Precision.FLOAT;
        Precision from = p.isFloat() ? fallback : p;
        return new Precision(weightBits != null ? weightBits : from.weightBits(),
                activationBits != null ? activationBits : from.activationBits());
    }
}
