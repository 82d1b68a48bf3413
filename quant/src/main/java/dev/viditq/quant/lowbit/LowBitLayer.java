package dev.viditq.quant.lowbit;

import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.calib.LayerHessian;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedWeight;
import dev.viditq.quant.runtime.WeightQuantizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A planned layer quantized with the methods its plan names, at every bit width its bit map uses:
 * <ol>
 *   <li>the weight is balanced, W_b = W / m;</li>
 *   <li>the low-rank branch (when the plan has one) is fitted to W_b and taken off, R = W_b − L₁L₂
 *       ({@link LowRankBranch}: the factors stay in the balanced basis, so they run on the input as it arrives);</li>
 *   <li>the residual is rotated, R' = R·Q (the basis the integer kernel multiplies in);</li>
 *   <li>R' is quantized at each width: GPTQ against the calibration Hessian taken to the same basis
 *       ({@link HessianBasis}, H' = Tᵀ·H·T with T = diag(m)·Q), else round-to-nearest.</li>
 * </ol>
 * The stored integers have the format of round-to-nearest, so the integer kernels run them unchanged; the layer
 * computes y = Q(R')·x' + L₁(L₂·(x ⊙ m)).
 */
public final class LowBitLayer {
    private LowBitLayer() {}

    /**
     * @param hessian the layer's input Hessian from calibration (needed when the plan has GPTQ, else unused)
     */
    public static QuantizedLayer quantize(Tensor floatWeight, LayerPlan lp, QuantConfig.WeightSpec spec, LayerHessian hessian) {
        int n = lp.out(), k = lp.in();
        float[] w = floatWeight.toFloatArray();
        if (lp.smooth() != null) {
            for (int r = 0; r < n; r++) for (int j = 0; j < k; j++) w[r * k + j] /= lp.smooth()[j];
        }
        LowRankBranch branch = lp.hasLowRank() ? LowRankBranch.fit(w, n, k, lp.lowRank()) : null;
        float[] residual = branch == null ? w : branch.residual(w);
        HadamardRotation rotation = lp.rotation() == null ? null : lp.rotation().build(k);
        if (rotation != null) rotation.rotateRows(residual, n);
        double[] h = lp.gptq() == null ? null : transformedHessian(lp, hessian, rotation);
        Map<Integer, QuantizedWeight> weights = new LinkedHashMap<>();
        for (int bits : lp.weightBits()) {
            weights.put(bits, h == null ? WeightQuantizer.quantize(residual, n, k, bits, spec)
                    : Gptq.quantize(residual, n, k, bits, spec, lp.gptq(), h).weight());
        }
        return new QuantizedLayer(lp, weights, branch);
    }

    private static double[] transformedHessian(LayerPlan lp, LayerHessian hessian, HadamardRotation rotation) {
        if (hessian == null) throw new IllegalArgumentException(lp.name() + ": GPTQ needs the layer's input Hessian from calibration");
        if (hessian.k() != lp.in()) {
            throw new IllegalArgumentException(lp.name() + ": a Hessian over " + hessian.k() + " inputs for a layer of " + lp.in());
        }
        return HessianBasis.transform(hessian.dense(), lp.in(), lp.smooth(), rotation);
    }
}
