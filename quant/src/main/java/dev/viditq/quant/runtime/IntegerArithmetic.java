package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A quantized step on the integer kernels: activation quantization — the fused native quantizer (balancing +
 * rotation + per-token int8) for dynamic per-token A8, {@link ActivationQuantizer} otherwise (A&lt;8, static or
 * per-tensor scales) — then the W8A8 / W4A8 GEMM over the packed weights. One forward at a time per thread (the
 * activation buffer is reused), as for every {@link dev.viditq.nn.models.Denoiser}. A member of a shared input
 * ({@link SharedActivations}) reads the input its group quantized once, when the model runs the group.
 */
final class IntegerArithmetic implements QuantizedArithmetic {
    private final int k;
    private final QuantPlan.ActivationScheme scheme;
    private final Map<Integer, PackedWeight> packed;
    private final ActivationTransform transform;
    private final ActivationQuantizer javaQuantizer;
    private final LowRankPath lowRank;
    private final SharedActivations shared;

    /**
     * @param packed  the packed weights by bit width (every width the plan's bit map selects)
     * @param lowRank the layer's low-rank branch, or null
     * @param shared  the group whose quantized input this layer reads when the model runs the group, or null
     */
    IntegerArithmetic(LayerPlan plan, QuantPlan.ActivationScheme scheme, Map<Integer, PackedWeight> packed, boolean balancingFolded,
                      LowRankPath lowRank, SharedActivations shared) {
        if (!packed.keySet().equals(plan.weightBits())) {
            throw new IllegalArgumentException(plan.name() + ": packed weights for " + packed.keySet() + " bits, the plan needs " + plan.weightBits());
        }
        this.k = plan.in();
        this.scheme = scheme;
        this.packed = Map.copyOf(packed);
        this.transform = QuantizedLayer.transform(plan, balancingFolded);
        this.javaQuantizer = new ActivationQuantizer(plan.in(), balancingFolded ? null : plan.smooth(), QuantizedLayer.rotation(plan));
        this.lowRank = lowRank;
        this.shared = shared;
    }

    @Override
    public long residentBytes() {
        return packed.values().stream().mapToLong(PackedWeight::byteSize).sum() + (lowRank == null ? 0 : lowRank.residentBytes());
    }

    @Override
    public void forward(MemorySegment x, int rows, Precision p, ActivationQuantizer.Ranges ranges, MemorySegment bias,
                        Activation activation, MemorySegment out) {
        QuantizedActivations q = shared == null ? null
                : shared.quantized(x, rows, p.activationBits(), into -> quantize(x, rows, p, ranges, into));
        if (q == null) {
            q = buffer(rows);
            quantize(x, rows, p, ranges, q);
        }
        PackedWeight w = packed.get(p.weightBits());
        if (lowRank == null) {   // the GEMM's epilogue applies the activation
            IntKernelBackend.get().gemm(q, w, bias, activation, out);
            return;
        }
        IntKernelBackend.get().gemm(q, w, bias, out);
        if (p.activationBits() == 8) lowRank.addFromQuantized(q, rows, out);   // the activations just quantized
        else lowRank.addFromInput(x, rows, out);
        if (activation != null) activation.applyInPlace(KernelBackend.get(), out, (long) rows * w.n());   // after the branch
    }

    /**
     * x quantized into {@code q}: the fused native quantizer for dynamic per-token A8, the Java quantizer for fewer
     * bits, static or per-tensor scales.
     */
    private void quantize(MemorySegment x, int rows, Precision p, ActivationQuantizer.Ranges ranges, QuantizedActivations q) {
        if (p.activationBits() == 8 && scheme.dynamic() && scheme.granularity() == QuantConfig.ActivationGranularity.TOKEN) {
            IntKernelBackend.get().quantize(x, rows, k, transform, q);
        } else {
            byte[] values = new byte[rows * k];
            float[] scales = new float[rows];
            javaQuantizer.quantize(x, rows, p.activationBits(), ranges, QuantizedArithmetic.tensorDynamic(scheme), values, scales);
            q.set(rows, values, scales);
        }
    }

    /**
     * The quantized-activation buffer for {@code rows} tokens of this layer's input width, shared by every layer of
     * this thread with the same width: it lives only inside one {@link #forward} call. One buffer per layer cost
     * rows × k bytes each — 3.2 GB for STDiT-XL's 252 layers at 8192 tokens, beyond the launcher's direct-memory
     * limit; shared, two (k = 1152 and 4608) are needed.
     */
    private QuantizedActivations buffer(int rows) {
        Map<Integer, QuantizedActivations> byWidth = SHARED_BUFFERS.get();
        QuantizedActivations b = byWidth.get(k);
        if (b == null || b.capacity() < rows) {
            b = QuantizedActivations.allocate(Math.max(rows, 16), k);
            byWidth.put(k, b);
        }
        return b;
    }

    private static final ThreadLocal<Map<Integer, QuantizedActivations>> SHARED_BUFFERS = ThreadLocal.withInitial(HashMap::new);
}
