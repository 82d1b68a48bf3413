package dev.viditq.quant.lowbit;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.QuantizedWeight;
import dev.viditq.quant.runtime.WeightQuantizer;

/**
 * One weight matrix at low bit width with the methods that make it hold, all in one basis (the tests' and the
 * analyses' view; a planned layer, with its balancing and rotation, goes through {@link LowBitLayer}): the integer
 * weight (round-to-nearest or GPTQ) of W − L₁L₂ and the optional low-rank branch L₁L₂; y = Q(W − L₁L₂)·x + L₁(L₂·x).
 *
 * @param branch null without a low-rank branch
 */
public record LowBitWeight(QuantizedWeight weight, LowRankBranch branch, double gptqProxyLoss) {

    /**
     * Quantizes transformed weights w [n, k]: the low-rank branch first (when {@code lowRank} is set), then the
     * residual with GPTQ against {@code hessian} (the dense k × k Hessian in the same basis) when {@code gptq} is
     * set, else round-to-nearest.
     */
    public static LowBitWeight quantize(float[] w, int n, int k, int bits, QuantConfig.WeightSpec spec, QuantConfig.Gptq gptq,
                                        QuantConfig.LowRank lowRank, double[] hessian) {
        LowRankBranch branch = lowRank == null ? null : LowRankBranch.fit(w, n, k, Math.min(lowRank.rank(), Math.min(n, k)));
        float[] residual = branch == null ? w : branch.residual(w);
        if (gptq == null) return new LowBitWeight(WeightQuantizer.quantize(residual, n, k, bits, spec), branch, Double.NaN);
        if (hessian == null) throw new IllegalArgumentException("GPTQ needs the layer's Hessian");
        Gptq.Result r = Gptq.quantize(residual, n, k, bits, spec, gptq, hessian);
        return new LowBitWeight(r.weight(), branch, r.proxyLoss());
    }

    /** What the layer multiplies with, as one float matrix [n, k]: the dequantized integers plus L₁L₂. */
    public float[] effectiveWeight() {
        float[] q = weight.dequantize();
        if (branch == null) return q;
        double[] p = branch.product();
        for (int i = 0; i < q.length; i++) q[i] = (float) (q[i] + p[i]);
        return q;
    }

    /**
     * Stored bits: the integers (int4 containers hold two values per byte, 5–8 bits one byte each), a scale (F32 or BF16) and
     * (asymmetric) an I8 zero point per row and group, and the BF16 low-rank factors.
     */
    public long storedBits() {
        long values = (long) weight.n() * weight.k() * (weight.int4() ? 4 : 8);
        long perGroup = (long) weight.scales().length * weight.scaleType().bits() + (weight.zeros() == null ? 0 : (long) weight.zeros().length * 8);
        return values + perGroup + (branch == null ? 0 : branch.storedBytes() * 8);
    }

    /** {@link #storedBits} per weight of the layer. */
    public double bitsPerWeight() {
        return (double) storedBits() / ((long) weight.n() * weight.k());
    }
}
