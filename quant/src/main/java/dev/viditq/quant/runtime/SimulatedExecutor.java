package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.sampling.StepContext;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * The same plan in float ("fake quantization", what the reference code runs): activations transformed, quantized and
 * dequantized per row, weights dequantized from the very integers the integer path packs, and a float GEMM. It
 * agrees with {@link IntegerExecutor} up to float rounding (the integer GEMM sums exactly, the float one rounds).
 */
final class SimulatedExecutor implements Linear.Executor {
    private final LayerPlan plan;
    private final QuantPlan.ActivationScheme scheme;
    private final Map<Integer, Tensor> dequantized = new HashMap<>();
    private final ActivationQuantizer quantizer;
    private final Tensor floatWeight;
    private final boolean balancingFolded;

    /** @param balancingFolded the model already multiplies this layer's input by its balancing vector ({@link Folding}) */
    SimulatedExecutor(QuantizedLayer layer, QuantPlan.ActivationScheme scheme, boolean balancingFolded, Tensor floatWeight) {
        this.plan = layer.plan();
        this.scheme = scheme;
        layer.weights().forEach((bits, w) -> dequantized.put(bits, Tensor.of(w.dequantize(), w.n(), w.k())));
        this.quantizer = new ActivationQuantizer(plan.in(), balancingFolded ? null : plan.smooth(), layer.rotation());
        this.floatWeight = floatWeight;
        this.balancingFolded = balancingFolded;
        if (plan.needsFloatWeight() && floatWeight == null) throw new IllegalArgumentException(plan.name() + ": float steps need the float weight");
    }

    boolean balancingFolded() {
        return balancingFolded;
    }

    long dequantizedBytes() {
        return dequantized.values().stream().mapToLong(Tensor::byteSize).sum();
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        StepContext ctx = StepContext.current();
        Precision p = plan.precisionAt(ctx.stepIndex(), ctx.timestep());
        int rows = x2d.size(0), k = plan.in();
        MemorySegment bias = layer.bias() == null ? null : layer.bias().data();
        if (p.isFloat()) {
            KernelBackend.get().gemm(x2d.data(), rows, k, floatWeight, bias, out2d.data());
            return;
        }
        byte[] q = new byte[rows * k];
        float[] scales = new float[rows];
        quantizer.quantize(x2d.data(), rows, p.activationBits(), Activations.ranges(plan, scheme, ctx, rows),
                Activations.tensorDynamic(scheme), q, scales);
        float[] xq = new float[rows * k];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < k; c++) xq[r * k + c] = scales[r] * q[r * k + c];
        }
        Tensor xt = Tensor.of(xq, rows, k);
        KernelBackend.get().gemm(xt.data(), rows, k, dequantized.get(p.weightBits()), bias, out2d.data());
    }
}
