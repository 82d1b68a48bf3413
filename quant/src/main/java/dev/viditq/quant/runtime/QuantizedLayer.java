package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.quant.plan.LayerPlan;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One quantized Linear: its plan and its weights quantized once (after balancing and rotation) at every bit width
 * its bit map can ask for, and the low-rank branch beside them when the plan has one. What the checkpoint stores for
 * the layer, and what the executors run.
 *
 * @param branch the BF16 factors L₁, L₂ (in the layer's balanced input basis, {@link LowRankBranch}), null without
 */
public record QuantizedLayer(LayerPlan plan, Map<Integer, QuantizedWeight> weights, LowRankBranch branch) {
    public QuantizedLayer {
        if (plan.hasLowRank() != (branch != null)
                || (branch != null && (branch.rank() != plan.lowRank() || branch.n() != plan.out() || branch.k() != plan.in()))) {
            throw new IllegalArgumentException(plan.name() + ": low-rank branch " + (branch == null ? "none" : branch.describe())
                    + " for a plan of rank " + plan.lowRank() + " on [" + plan.out() + ", " + plan.in() + "]");
        }
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        if (!weights.keySet().equals(plan.weightBits())) {
            throw new IllegalArgumentException(plan.name() + ": weights for " + weights.keySet() + " bits, the plan needs " + plan.weightBits());
        }
        for (QuantizedWeight w : weights.values()) {
            if (w.n() != plan.out() || w.k() != plan.in()) {
                throw new IllegalArgumentException(plan.name() + ": quantized weight [" + w.n() + ", " + w.k() + "] for a layer ["
                        + plan.out() + ", " + plan.in() + "]");
            }
        }
    }

    /** A layer without a low-rank branch. */
    public QuantizedLayer(LayerPlan plan, Map<Integer, QuantizedWeight> weights) {
        this(plan, weights, null);
    }

    /** The layer's rotation, or null. */
    public HadamardRotation rotation() {
        return rotation(plan);
    }

    /** The fused quantizer's transform (balancing, then rotation), or null when there is none. */
    public ActivationTransform transform() {
        return transform(plan, false);
    }

    static HadamardRotation rotation(LayerPlan plan) {
        return plan.rotation() == null ? null : plan.rotation().build(plan.in());
    }

    /**
     * What the quantizer applies online: balancing (unless {@code balancingFolded}: the model already scaled the
     * input, see {@link Folding}) and rotation; null when nothing is left.
     */
    static ActivationTransform transform(LayerPlan plan, boolean balancingFolded) {
        float[] smooth = balancingFolded ? null : plan.smooth();
        if (smooth == null && plan.rotation() == null) return null;
        return ActivationTransform.of(plan.in(), smooth, rotation(plan));
    }
}
