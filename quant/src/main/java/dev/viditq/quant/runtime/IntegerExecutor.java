package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.sampling.StepContext;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A quantized Linear on the integer kernels: per call, the precision of the current step (bit map), then
 * activation quantization — the fused native quantizer (balancing + rotation + per-token int8) for dynamic A8,
 * {@link ActivationQuantizer} otherwise (A&lt;8, static or per-tensor scales) — and the W8A8 / W4A8 GEMM over the
 * packed weights. Steps the bit map keeps in float run the float GEMM on the layer's float weight.
 * One forward at a time (the activation buffer is reused), as for every {@link dev.viditq.nn.models.Denoiser}.
 */
final class IntegerExecutor implements Linear.Executor {
    private final LayerPlan plan;
    private final QuantPlan.ActivationScheme scheme;
    private final Map<Integer, PackedWeight> packed = new HashMap<>();
    private final ActivationTransform transform;
    private final ActivationQuantizer javaQuantizer;
    private final boolean balancingFolded;
    private final Tensor floatWeight;

    /**
     * @param packed          the packed weights by bit width (every width the plan's bit map selects)
     * @param balancingFolded the model already multiplies this layer's input by its balancing vector ({@link Folding})
     * @param floatWeight     the float weight for float steps, or null when the plan has none
     */
    IntegerExecutor(LayerPlan plan, QuantPlan.ActivationScheme scheme, Map<Integer, PackedWeight> packed,
                    boolean balancingFolded, Tensor floatWeight) {
        this.plan = plan;
        this.scheme = scheme;
        this.packed.putAll(packed);
        if (!packed.keySet().equals(plan.weightBits())) {
            throw new IllegalArgumentException(plan.name() + ": packed weights for " + packed.keySet() + " bits, the plan needs " + plan.weightBits());
        }
        this.transform = QuantizedLayer.transform(plan, balancingFolded);
        this.javaQuantizer = new ActivationQuantizer(plan.in(), balancingFolded ? null : plan.smooth(), QuantizedLayer.rotation(plan));
        this.balancingFolded = balancingFolded;
        this.floatWeight = floatWeight;
        if (plan.needsFloatWeight() && floatWeight == null) throw new IllegalArgumentException(plan.name() + ": float steps need the float weight");
    }

    /** True when the model multiplies the input by the balancing vector (this executor does not). */
    boolean balancingFolded() {
        return balancingFolded;
    }

    /** Off-heap bytes of the packed weights. */
    long packedBytes() {
        return packed.values().stream().mapToLong(PackedWeight::byteSize).sum();
    }

    /** Both the float and the integer GEMMs write every output element (bias included): no zeroing needed. */
    @Override
    public boolean writesEveryOutput() {
        return true;
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
        QuantizedActivations q = buffer(rows);
        IntKernels kernels = IntKernelBackend.get();
        if (p.activationBits() == 8 && scheme.dynamic() && scheme.granularity() == QuantConfig.ActivationGranularity.TOKEN) {
            kernels.quantize(x2d.data(), rows, k, transform, q);
        } else {
            byte[] values = new byte[rows * k];
            float[] scales = new float[rows];
            javaQuantizer.quantize(x2d.data(), rows, p.activationBits(), Activations.ranges(plan, scheme, ctx, rows),
                    Activations.tensorDynamic(scheme), values, scales);
            q.set(rows, values, scales);
        }
        kernels.gemm(q, packed.get(p.weightBits()), bias, out2d.data());
    }

    /**
     * The quantized-activation buffer for {@code rows} tokens of this layer's input width, shared by every executor
     * of this thread with the same width: it lives only inside one {@link #forward} call. One buffer per layer cost
     * rows × k bytes each, 3.2 GB for STDiT-XL's 252 layers at 8192 tokens (beyond the launcher's direct-memory
     * limit: docs/BENCHMARKS.md issue 7); shared, two (k = 1152 and 4608) are needed.
     */
    private QuantizedActivations buffer(int rows) {
        Map<Integer, QuantizedActivations> byWidth = SHARED_BUFFERS.get();
        QuantizedActivations b = byWidth.get(plan.in());
        if (b == null || b.capacity() < rows) {
            b = QuantizedActivations.allocate(Math.max(rows, 16), plan.in());
            byWidth.put(plan.in(), b);
        }
        return b;
    }

    private static final ThreadLocal<Map<Integer, QuantizedActivations>> SHARED_BUFFERS = ThreadLocal.withInitial(HashMap::new);
}
