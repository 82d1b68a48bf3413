package dev.viditq.quant.mp;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.BitOverride;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plans a ViDiT-Q-MP sensitivity analysis measures (docs/MIXED_PRECISION.md): one layer group at a candidate
 * precision within one range of sampling steps, every other layer float (the paper's isolation) or at an operating
 * point. They keep the balancing vectors, rotations and static ranges of a method's plan for every layer and change
 * only the bits. The runner that generates with them and scores the result lives in eval; what it measures comes
 * back to the search as the table {@link SearchInput} reads.
 */
public final class SensitivityPlans {
    private final QuantPlan full;
    private final int steps;
    private final Precision around;

    /**
     * @param full   the method's plan for every quantizable layer
     * @param steps  sampling steps of the measured runs
     * @param around the operating point the other layers and steps run at, or null for float
     */
    public SensitivityPlans(QuantPlan full, int steps, Precision around) {
        if (around != null && around.isFloat()) throw new IllegalArgumentException("the operating point must be a quantized precision (null: float)");
        this.full = full;
        this.steps = steps;
        this.around = around;
    }

    /**
     * {@code layers} (the group {@code group}) at {@code p} in steps [first, end); before and after, float or the
     * operating point. [0, steps) covers the whole run.
     */
    public QuantPlan group(String group, List<String> layers, Precision p, int first, int end) {
        return group(group, layers, p, null, first, end);
    }

    /**
     * As {@link #group(String, List, Precision, int, int)}, the group's layers quantized with {@code method} (its
     * grouping, GPTQ settings and low-rank rank; null: the method's plan as it is).
     */
    public QuantPlan group(String group, List<String> layers, Precision p, MethodCandidate.WeightMethod method, int first, int end) {
        if (first < 0 || end > steps || first >= end) throw new IllegalArgumentException("steps [" + first + ", " + end + ") of " + steps);
        List<BitOverride> overrides = new ArrayList<>();
        if (first > 0) overrides.add(outside(new int[]{0, first}));
        if (end < steps) overrides.add(outside(new int[]{end, steps}));
        Map<String, LayerPlan> plans = new LinkedHashMap<>();
        for (String name : layers) {
            LayerPlan lp = full.layers().get(name);
            if (lp == null) throw new IllegalArgumentException("layer " + name + " of group " + group + " is not in the method's plan");
            plans.put(name, method == null ? at(lp, p, overrides) : withMethod(at(lp, p, overrides), method));
        }
        return new QuantPlan(full.method(), full.source() + " (sensitivity of " + group + ")", full.weights(), full.activations(), plans, List.of(),
                full.sharedInputsWithin(plans.keySet()));
    }

    /** Every layer of the method's plan at {@code p} for all steps: the operating point {@code name}. */
    public QuantPlan uniform(Precision p, String name) {
        Map<String, LayerPlan> plans = new LinkedHashMap<>();
        for (LayerPlan lp : full.layers().values()) plans.put(lp.name(), at(lp, p, List.of()));
        return new QuantPlan(full.method(), full.source() + " (sensitivity operating point " + name + ")", full.weights(),
                full.activations(), plans, List.of(), full.sharedInputs());
    }

    /**
     * Weights quantized once, run under another plan of the same layers (e.g. the group's plan of another step
     * range): the plan decides the float and operating-point steps, the weights must hold every width it selects.
     */
    public static QuantizedModel replanned(QuantizedModel weights, QuantPlan plan) {
        Map<String, QuantizedLayer> layers = new LinkedHashMap<>();
        for (LayerPlan lp : plan.layers().values()) {
            QuantizedLayer q = weights.layers().get(lp.name());
            layers.put(lp.name(), new QuantizedLayer(lp, q.weights(), q.branch()));
        }
        return new QuantizedModel(plan, layers);
    }

    /** What a group runs outside its measured range: float, or the operating point. */
    private BitOverride outside(int[] range) {
        return around == null ? new BitOverride(null, null, true, range, null)
                : new BitOverride(around.weightBits(), around.activationBits(), false, range, null);
    }

    private static LayerPlan at(LayerPlan lp, Precision p, List<BitOverride> overrides) {
        return new LayerPlan(lp.name(), lp.in(), lp.out(), lp.smooth(), lp.rotation(), p, overrides, lp.ranges(), lp.gptq(), lp.lowRank(),
                lp.weightSpec());
    }

    /** {@code lp} with another weight method (the rank cut to the layer's smaller side, as planning cuts it). */
    private LayerPlan withMethod(LayerPlan lp, MethodCandidate.WeightMethod m) {
        QuantConfig.WeightSpec base = full.weights();
        QuantConfig.WeightSpec spec = base.withGroupSize(m.groupSize());
        boolean same = spec.granularity() == base.granularity() && spec.groupSize() == base.groupSize();
        return new LayerPlan(lp.name(), lp.in(), lp.out(), lp.smooth(), lp.rotation(), lp.base(), lp.overrides(), lp.ranges(), m.gptq(),
                Math.min(m.lowRank(), Math.min(lp.in(), lp.out())), same ? null : spec);
    }
}
