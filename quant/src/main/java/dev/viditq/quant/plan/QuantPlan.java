package dev.viditq.quant.plan;

import dev.viditq.quant.config.QuantConfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 */
public record QuantPlan(String method, String source, QuantConfig.WeightSpec weights, ActivationScheme activations,
                        Map<String, LayerPlan> layers, List<String> notes) {
    public QuantPlan {
        layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        notes = List.copyOf(notes);
    }

    /** The weight grouping of layer {@code lp}: its own ({@code layer_methods}) or the plan's. */
    public QuantConfig.WeightSpec weightsOf(LayerPlan lp) {
        return lp.weightSpec() != null ? lp.weightSpec() : weights;
    }

    /** How activations are quantized (the bits are per layer and step, in {@link LayerPlan}). */
    public record ActivationScheme(QuantConfig.ActivationGranularity granularity, boolean dynamic) {}
}
