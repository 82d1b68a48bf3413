package dev.viditq.quant.plan;

import java.util.List;

/**
 * Quantized Linears that read one input tensor ({@link dev.viditq.nn.layers.SharedInput}: diffusers' to_q / to_k /
 * to_v, a cross-attention's to_k / to_v) and were planned together: one balancing vector for all of them (computed
 * from their joint channel statistics, as for a fused projection), the same rotation and the same static ranges, so
 * that the input is balanced, rotated and quantized once at run time and every member's integer GEMM reads it.
 * Recorded in the plan, so that a loader builds the sharing; plans without it (older folders) quantize per layer.
 *
 * @param name   the model's name for the group, e.g. {@code blocks.3.attn1.{to_q,to_k,to_v}}
 * @param layers the members' names, in execution order
 */
public record SharedInputGroup(String name, List<String> layers) {
    public SharedInputGroup {
        layers = List.copyOf(layers);
        if (layers.size() < 2) throw new IllegalArgumentException(name + ": a shared input group needs at least two layers, got " + layers);
    }
}
