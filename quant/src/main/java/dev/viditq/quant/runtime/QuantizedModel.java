package dev.viditq.quant.runtime;

import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.plan.QuantPlan;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A plan with its quantized weights: what {@code ./viditq quantize} writes and what loading a quantized folder
 * reads back. {@link #install} swaps the executors of the named Linears of a model built from the same checkpoint
 * layout; the models never notice.
 */
public record QuantizedModel(QuantPlan plan, Map<String, QuantizedLayer> layers) {
    public QuantizedModel {
        layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
    }

    /** Installs integer or simulated executors on the model's Linears; returns the packed bytes now resident. */
    public long install(Denoiser model, ExecutionMode mode) {
        Map<String, Linear> linears = model.linears();
        long bytes = 0;
        for (QuantizedLayer q : layers.values()) {
            Linear l = linears.get(q.plan().name());
            if (l == null) throw new IllegalArgumentException("quantized layer '" + q.plan().name() + "' is not a Linear of this model");
            if (l.inFeatures() != q.plan().in() || l.outFeatures() != q.plan().out()) {
                throw new IllegalArgumentException("quantized layer " + q.plan().name() + " is [" + q.plan().out() + ", " + q.plan().in()
                        + "], the model's Linear [" + l.outFeatures() + ", " + l.inFeatures() + "]");
            }
            var floatWeight = q.plan().needsFloatWeight() ? l.weight() : null;
            if (floatWeight != null && !floatWeight.dtype().isFloating()) {
                throw new IllegalArgumentException(q.plan().name() + ": the plan runs some steps in float but the weight is " + floatWeight.dtype());
            }
            Linear.Executor ex;
            if (mode == ExecutionMode.SIMULATE) {
                ex = new SimulatedExecutor(q, plan.activations(), floatWeight);
            } else {
                IntegerExecutor ie = new IntegerExecutor(q, plan.activations(), floatWeight);
                bytes += ie.packedBytes();
                ex = ie;
            }
            l.setExecutor(ex);
        }
        return bytes;
    }

    /**
     * Off-heap bytes the quantized executors installed on {@code model} hold: packed integer weights (integer mode)
     * or dequantized F32 copies (simulated mode). Float weights of the model are not included.
     */
    public static long residentBytes(Denoiser model) {
        long bytes = 0;
        for (Linear l : model.linears().values()) {
            if (l.executor() instanceof IntegerExecutor e) bytes += e.packedBytes();
            if (l.executor() instanceof SimulatedExecutor e) bytes += e.dequantizedBytes();
        }
        return bytes;
    }

    /** Bytes of the stored integer weights, scales and zero points (the checkpoint's share of quantized layers). */
    public long storedWeightBytes() {
        long b = 0;
        for (QuantizedLayer l : layers.values()) {
            for (QuantizedWeight w : l.weights().values()) {
                long values = w.int4() ? ((long) w.n() * w.k() + 1) / 2 : (long) w.n() * w.k();
                b += values + (long) w.scales().length * Float.BYTES + (w.zeros() == null ? 0 : w.zeros().length);
            }
        }
        return b;
    }
}
