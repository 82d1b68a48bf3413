package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.LayerHessian;
import dev.viditq.quant.lowbit.LowBitLayer;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Applies a plan to a float model's weights: each quantized layer's weight W [out, in] becomes (W / m)·Q (balancing,
 * rotation — the same {@link ActivationTransform} the activations get online), and only then is quantized, once per
 * bit width its bit map uses (round-to-nearest, or GPTQ and a low-rank branch when the plan says so). The model itself is left untouched (install the result with
 * {@link QuantizedModel#install}).
 */
public final class Quantizer {
    private Quantizer() {}

    /** A plan of round-to-nearest layers without low-rank branches (no calibration Hessians needed). */
    public static QuantizedModel quantize(Denoiser model, QuantPlan plan) {
        return quantize(model, plan, null);
    }

    /**
     * Quantizes every layer of the plan; layers with GPTQ or a low-rank branch go through {@link LowBitLayer}, GPTQ
     * with the input Hessian {@code calibration} recorded for the layer ({@code calibrate --hessians}).
     */
    public static QuantizedModel quantize(Denoiser model, QuantPlan plan, Calibration calibration) {
        Map<String, QuantizedLayer> layers = new LinkedHashMap<>();
        Map<String, Linear> linears = model.linears();
        for (LayerPlan lp : plan.layers().values()) {
            Linear l = linears.get(lp.name());
            if (l == null) throw new IllegalArgumentException("the plan names layer '" + lp.name() + "', which this model does not have");
            if (l.inFeatures() != lp.in() || l.outFeatures() != lp.out()) {
                throw new IllegalArgumentException("the plan's layer " + lp.name() + " is [" + lp.out() + ", " + lp.in()
                        + "], the model's [" + l.outFeatures() + ", " + l.inFeatures() + "]");
            }
            if (l.storage().isQuantized()) {
                throw new IllegalArgumentException(lp.name() + ": this layer is stored quantized; quantize a float model");
            }
            if (lp.gptq() != null && calibration == null) {
                throw new IllegalArgumentException(lp.name() + ": GPTQ needs a calibration with input Hessians (calibrate --hessians)");
            }
            layers.put(lp.name(), lp.gptq() != null || lp.hasLowRank()
                    ? lowBit(l.weight(), lp, plan, lp.gptq() == null ? null : calibration.hessian(lp.name()))
                    : quantizeLayer(l.weight(), lp, plan));
        }
        return new QuantizedModel(plan, layers);
    }

    static QuantizedLayer quantizeLayer(Tensor weight, LayerPlan lp, QuantPlan plan) {
        if (!weight.dtype().isFloating()) {
            throw new IllegalArgumentException(lp.name() + ": weight is " + weight.dtype() + "; quantize a float model");
        }
        float[] w = transformedWeight(weight, lp);
        Map<Integer, QuantizedWeight> weights = new LinkedHashMap<>();
        for (int bits : lp.weightBits()) weights.put(bits, WeightQuantizer.quantize(w, lp.out(), lp.in(), bits, plan.weightsOf(lp)));
        return new QuantizedLayer(lp, weights);
    }

    private static QuantizedLayer lowBit(Tensor weight, LayerPlan lp, QuantPlan plan, LayerHessian hessian) {
        if (!weight.dtype().isFloating()) {
            throw new IllegalArgumentException(lp.name() + ": weight is " + weight.dtype() + "; quantize a float model");
        }
        return LowBitLayer.quantize(weight, lp, plan.weightsOf(lp), hessian);
    }

    /** W' = (W / m)·Q [out, in] row-major: the float weight in the basis the integer kernel sees. */
    public static float[] transformedWeight(Tensor weight, LayerPlan lp) {
        int n = lp.out(), k = lp.in();
        float[] w = weight.toFloatArray();
        ActivationTransform t = lp.smooth() == null && lp.rotation() == null ? null : transform(lp);
        if (t != null) for (int r = 0; r < n; r++) t.transformWeightRow(w, r * k);
        return w;
    }

    private static ActivationTransform transform(LayerPlan lp) {
        return ActivationTransform.of(lp.in(), lp.smooth(), lp.rotation() == null ? null : lp.rotation().build(lp.in()));
    }
}
