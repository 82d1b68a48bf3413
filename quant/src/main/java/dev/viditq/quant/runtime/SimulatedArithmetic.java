package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A quantized step in float ("fake quantization", what the reference code runs): activations transformed, quantized
 * and dequantized per row, weights dequantized from the very integers the integer path packs, and a float GEMM. It
 * agrees with {@link IntegerArithmetic} up to float rounding (the integer GEMM sums exactly, the float one rounds).
 */
final class SimulatedArithmetic implements QuantizedArithmetic {
    private final int k;
    private final QuantPlan.ActivationScheme scheme;
    private final Map<Integer, Tensor> dequantized = new HashMap<>();
    private final ActivationQuantizer quantizer;
    private final LowRankPath lowRank;

    /**
     * @param balancingFolded the model already multiplies this layer's input by its balancing vector ({@link Folding})
     * @param lowRank         the layer's low-rank branch, or null
     */
    SimulatedArithmetic(QuantizedLayer layer, QuantPlan.ActivationScheme scheme, boolean balancingFolded, LowRankPath lowRank) {
        this.k = layer.plan().in();
        this.scheme = scheme;
        layer.weights().forEach((bits, w) -> dequantized.put(bits, Tensor.of(w.dequantize(), w.n(), w.k())));
        this.quantizer = new ActivationQuantizer(k, balancingFolded ? null : layer.plan().smooth(), layer.rotation());
        this.lowRank = lowRank;
    }

    @Override
    public long residentBytes() {
        return dequantized.values().stream().mapToLong(Tensor::byteSize).sum() + (lowRank == null ? 0 : lowRank.residentBytes());
    }

    @Override
    public void forward(MemorySegment x, int rows, Precision p, ActivationQuantizer.Ranges ranges, MemorySegment bias,
                        Activation activation, MemorySegment out) {
        byte[] q = new byte[rows * k];
        float[] scales = new float[rows];
        quantizer.quantize(x, rows, p.activationBits(), ranges, QuantizedArithmetic.tensorDynamic(scheme), q, scales);
        float[] xq = new float[rows * k];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < k; c++) xq[r * k + c] = scales[r] * q[r * k + c];
        }
        Tensor xt = Tensor.of(xq, rows, k);
        Tensor w = dequantized.get(p.weightBits());
        KernelBackend.get().gemm(xt.data(), rows, k, w, bias, out);
        if (lowRank != null) {
            if (p.activationBits() == 8) lowRank.addFromDequantized(xt.data(), rows, out);
            else lowRank.addFromInput(x, rows, out);
        }
        if (activation != null) activation.applyInPlace(KernelBackend.get(), out, (long) rows * w.size(0));
    }
}
