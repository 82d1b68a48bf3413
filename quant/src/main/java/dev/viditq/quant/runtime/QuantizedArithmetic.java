package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.Activation;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;

import java.lang.foreign.MemorySegment;

/**
 * How {@link QuantizedExecutor} computes a quantized step, out = activation(quantize(x) · W(weight bits) + bias), writing
 * every output element: on the integer kernels ({@link IntegerArithmetic}) or simulated in float
 * ({@link SimulatedArithmetic}). {@code activation} is null for a plain linear; else it follows everything the layer
 * adds (its low-rank branch included).
 */
interface QuantizedArithmetic {
    void forward(MemorySegment x, int rows, Precision p, ActivationQuantizer.Ranges ranges, MemorySegment bias,
                 Activation activation, MemorySegment out);

    /** Off-heap bytes of the weights it holds (packed integers, or dequantized F32 copies). */
    long residentBytes();

    /** One activation scale for the whole tensor, found at run time. */
    static boolean tensorDynamic(QuantPlan.ActivationScheme scheme) {
        return scheme.dynamic() && scheme.granularity() == QuantConfig.ActivationGranularity.TENSOR;
    }
}
