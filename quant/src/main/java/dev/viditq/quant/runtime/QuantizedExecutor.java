package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.sampling.StepContext;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.plan.StaticRanges;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A quantized Linear. Per call, on the calling thread: the precision of the current step from the plan's bit map;
 * steps the bit map keeps in float run the float GEMM on the layer's float weight; the others go to the layer's
 * {@link QuantizedArithmetic} — on the integer kernels or simulated in float — with the activation-scale rule of the
 * step (static ranges of the step's timestep bucket and CFG half, or dynamic). Every path writes every output element.
 */
final class QuantizedExecutor implements Linear.Executor {
    private final LayerPlan plan;
    private final QuantPlan.ActivationScheme scheme;
    private final boolean balancingFolded;
    private final Tensor floatWeight;
    private final QuantizedArithmetic arithmetic;

    /**
     * @param balancingFolded the model already multiplies this layer's input by its balancing vector ({@link Folding})
     * @param floatWeight     the float weight for float steps, or null when the plan has none
     */
    QuantizedExecutor(LayerPlan plan, QuantPlan.ActivationScheme scheme, boolean balancingFolded, Tensor floatWeight,
                      QuantizedArithmetic arithmetic) {
        if (plan.needsFloatWeight() && floatWeight == null) throw new IllegalArgumentException(plan.name() + ": float steps need the float weight");
        this.plan = plan;
        this.scheme = scheme;
        this.balancingFolded = balancingFolded;
        this.floatWeight = floatWeight;
        this.arithmetic = arithmetic;
    }

    /** True when the model multiplies the input by the balancing vector (this executor does not). */
    boolean balancingFolded() {
        return balancingFolded;
    }

    long residentBytes() {
        return arithmetic.residentBytes();
    }

    @Override
    public boolean writesEveryOutput() {
        return true;
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        forwardActivated(layer, x2d, out2d, null);
    }

    /** With an activation (null: none), which the integer GEMM computes in its epilogue where it can. */
    @Override
    public void forwardActivated(Linear layer, Tensor x2d, Tensor out2d, Activation activation) {
        StepContext ctx = StepContext.current();
        Precision p = plan.precisionAt(ctx.stepIndex(), ctx.timestep());
        int rows = x2d.size(0);
        MemorySegment bias = layer.bias() == null ? null : layer.bias().data();
        if (p.isFloat()) {
            KernelBackend.get().gemm(x2d.data(), rows, plan.in(), floatWeight, bias, out2d.data());
            if (activation != null) activation.applyInPlace(KernelBackend.get(), out2d.data(), out2d.numel());
            return;
        }
        arithmetic.forward(x2d.data(), rows, p, ranges(ctx, rows), bias, activation, out2d.data());
    }

    /**
     * What the arithmetic of this step depends on: its precision, and for static activations the ranges' timestep
     * bucket and CFG half (dynamic ones depend on the input alone).
     */
    @Override
    public Object reuseKey() {
        StepContext ctx = StepContext.current();
        Precision p = plan.precisionAt(ctx.stepIndex(), ctx.timestep());
        if (p.isFloat() || scheme.dynamic()) return p;
        StaticRanges r = plan.ranges();
        return r == null ? null : List.of(p, r.bucket(ctx.active() ? ctx.timestep() : Double.NaN), ctx.cfgHalf());
    }

    /** Static layers: the calibrated range of the step's bucket and each row's CFG half; dynamic: the row's own. */
    private ActivationQuantizer.Ranges ranges(StepContext ctx, int rows) {
        if (scheme.dynamic()) return ActivationQuantizer.DYNAMIC_TOKEN;
        StaticRanges r = plan.ranges();
        if (r == null) throw new IllegalStateException(plan.name() + ": static activations without calibrated ranges");
        int bucket = r.bucket(ctx.active() ? ctx.timestep() : Double.NaN);
        StepContext.CfgHalf half = ctx.cfgHalf();
        return (row, own) -> r.absmax(bucket, half.isUncondRow(row, rows));
    }
}
