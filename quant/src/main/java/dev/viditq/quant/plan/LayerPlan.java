package dev.viditq.quant.plan;

import dev.viditq.quant.config.QuantConfig;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What happens to one quantized Linear: the transform of its input (balancing vector, then rotation; the weights
 * get the inverse, offline), its precision (a default plus bit-map overrides by step range), and fixed activation
 * ranges when activations are static.
 *
 * @param smooth      the balancing vector m (x ⊙ m online, W / m offline), or null
 * @param rotation    the rotation, or null
 * @param base        precision before the overrides (the config's weight / activation bits)
 * @param overrides   bit-map rules for this layer, in order (later wins)
 * @param ranges      static activation ranges, or null for dynamic activations
 * @param gptq        GPTQ of the weights at every bit width (needs the layer's calibration Hessian), or null for
 *                    round-to-nearest
 * @param lowRank     rank of the BF16 low-rank branch beside the integer weight (SVDQuant), 0 for none
 * @param weightSpec  this layer's weight grouping when it differs from the plan's ({@code layer_methods}), or null
 *                    for the plan's ({@link QuantPlan#weightsOf})
 */
public record LayerPlan(String name, int in, int out, float[] smooth, RotationSpec rotation, Precision base,
                        List<BitOverride> overrides, StaticRanges ranges, QuantConfig.Gptq gptq, int lowRank,
                        QuantConfig.WeightSpec weightSpec) {
    /** Enumerating override combinations is exact but exponential; more rules than this on one layer are refused. */
    private static final int MAX_RANGED_RULES = 12;

    public LayerPlan {
        overrides = List.copyOf(overrides);
        if (smooth != null && smooth.length != in) throw new IllegalArgumentException(name + ": balancing vector of " + smooth.length + " for " + in + " inputs");
        if (base.isFloat()) throw new IllegalArgumentException(name + ": the base precision of a quantized layer cannot be float");
        if (lowRank < 0 || lowRank > Math.min(in, out)) {
            throw new IllegalArgumentException(name + ": low-rank branch of rank " + lowRank + " for a [" + out + ", " + in + "] layer");
        }
    }

    /** A layer with the plan's weight grouping. */
    public LayerPlan(String name, int in, int out, float[] smooth, RotationSpec rotation, Precision base,
                     List<BitOverride> overrides, StaticRanges ranges, QuantConfig.Gptq gptq, int lowRank) {
        this(name, in, out, smooth, rotation, base, overrides, ranges, gptq, lowRank, null);
    }

    /** A layer quantized by round-to-nearest, without a low-rank branch. */
    public LayerPlan(String name, int in, int out, float[] smooth, RotationSpec rotation, Precision base,
                     List<BitOverride> overrides, StaticRanges ranges) {
        this(name, in, out, smooth, rotation, base, overrides, ranges, null, 0);
    }

    /** True when the layer carries a low-rank branch. */
    public boolean hasLowRank() {
        return lowRank > 0;
    }

    /**
     * The precision of the forward pass at sampling step {@code step} (0-based; negative outside a sampling loop)
     * with model time {@code timestep}.
     */
    public Precision precisionAt(int step, double timestep) {
        Precision p = base;
        for (BitOverride o : overrides) if (o.covers(step, timestep)) p = o.apply(p, base);
        return p;
    }

    /** Every precision some step can have (which packed weights must be stored), in first-use order. */
    public Set<Precision> possiblePrecisions() {
        Precision always = base;
        List<BitOverride> ranged = new ArrayList<>();
        for (BitOverride o : overrides) {
            if (o.allSteps() && ranged.isEmpty()) always = o.apply(always, base);
            else ranged.add(o);
        }
        if (ranged.size() > MAX_RANGED_RULES) {
            throw new IllegalArgumentException(name + ": " + ranged.size() + " step-ranged bit-map rules apply; at most " + MAX_RANGED_RULES);
        }
        Set<Precision> out = new LinkedHashSet<>();
        for (int mask = 0; mask < (1 << ranged.size()); mask++) {
            Precision p = always;
            for (int i = 0; i < ranged.size(); i++) {
                BitOverride o = ranged.get(i);
                if (o.allSteps() || (mask & (1 << i)) != 0) p = o.apply(p, base);
            }
            out.add(p);
        }
        return out;
    }

    /** The distinct weight bit widths to store (float excluded). */
    public Set<Integer> weightBits() {
        Set<Integer> out = new LinkedHashSet<>();
        for (Precision p : possiblePrecisions()) if (!p.isFloat()) out.add(p.weightBits());
        return out;
    }

    /** True when some step runs this layer in float (its float weight must be kept). */
    public boolean needsFloatWeight() {
        return possiblePrecisions().contains(Precision.FLOAT);
    }
}
