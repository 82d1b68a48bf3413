package dev.viditq.quant.plan;

import dev.viditq.quant.config.QuantConfig;

import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The per-Linear decisions of a quantization method for one model: which layers are quantized and how (every
 * Linear not in {@link #layers} stays in float). Methods produce it ({@link dev.viditq.quant.method.QuantMethod});
 * {@link dev.viditq.quant.runtime.Quantizer} turns it into packed weights; the checkpoint stores it as JSON
 * ({@link PlanJson}) with the vectors as tensors.
 *
 * @param method      the method's id (naive, smoothquant, quarot, viditq)
 * @param source      the config it came from
 * @param weights     symmetric / granularity / group size of every quantized weight
 * @param activations token or tensor granularity, dynamic or static
 * @param layers      quantized layers by name, in model order
 * @param notes       what the method decided beyond the config (layers skipped, rotation blocks, ...)
 * @param sharedInputs groups of layers that read one input and share its balancing and quantization, in model order
 *                    (each member a layer of {@link #layers}, in at most one group)
 */
public record QuantPlan(String method, String source, QuantConfig.WeightSpec weights, ActivationScheme activations,
                        Map<String, LayerPlan> layers, List<String> notes, List<SharedInputGroup> sharedInputs) {
    public QuantPlan {
        layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        notes = List.copyOf(notes);
        sharedInputs = List.copyOf(sharedInputs);
        Set<String> grouped = new HashSet<>();
        for (SharedInputGroup g : sharedInputs) {
            for (String l : g.layers()) {
                if (!layers.containsKey(l)) throw new IllegalArgumentException("shared input " + g.name() + ": layer " + l + " is not quantized by the plan");
                if (!grouped.add(l)) throw new IllegalArgumentException("shared input " + g.name() + ": layer " + l + " is in two groups");
            }
        }
    }

    /** A plan whose layers each quantize their own input. */
    public QuantPlan(String method, String source, QuantConfig.WeightSpec weights, ActivationScheme activations,
                     Map<String, LayerPlan> layers, List<String> notes) {
        this(method, source, weights, activations, layers, notes, List.of());
    }

    /**
     * The groups whose members are all in {@code kept}: what a plan over a subset of these layers keeps (a group
     * cut in two shares nothing).
     */
    public List<SharedInputGroup> sharedInputsWithin(Set<String> kept) {
        return sharedInputs.stream().filter(g -> kept.containsAll(g.layers())).toList();
    }

    /** The weight grouping of layer {@code lp}: its own ({@code layer_methods}) or the plan's. */
    public QuantConfig.WeightSpec weightsOf(LayerPlan lp) {
        return lp.weightSpec() != null ? lp.weightSpec() : weights;
    }

    /** How activations are quantized (the bits are per layer and step, in {@link LayerPlan}). */
    public record ActivationScheme(QuantConfig.ActivationGranularity granularity, boolean dynamic) {}
}
