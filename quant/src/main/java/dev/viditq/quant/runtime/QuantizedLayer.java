package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.quant.plan.LayerPlan;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One quantized Linear: its plan and its weights quantized once (after balancing and rotation) at every bit width
 * its bit map can ask for. What the checkpoint stores for the layer, and what the executors run.
 */
public record QuantizedLayer(LayerPlan plan, Map<Integer, QuantizedWeight> weights) {
    public QuantizedLayer {
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
