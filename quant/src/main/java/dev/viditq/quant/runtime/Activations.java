package dev.viditq.quant.runtime;

import dev.viditq.nn.sampling.StepContext;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.plan.StaticRanges;

/** The activation-scale rule of a layer at a forward pass, shared by the integer and the simulated executors. */
final class Activations {
    private Activations() {}

    static boolean tensorDynamic(QuantPlan.ActivationScheme scheme) {
        return scheme.dynamic() && scheme.granularity() == QuantConfig.ActivationGranularity.TENSOR;
    }

    /** Static layers: the calibrated range of the current bucket and each row's CFG half; dynamic: the row's own. */
    static ActivationQuantizer.Ranges ranges(LayerPlan plan, QuantPlan.ActivationScheme scheme, StepContext ctx, int rows) {
        if (scheme.dynamic()) return ActivationQuantizer.DYNAMIC_TOKEN;
        StaticRanges r = plan.ranges();
        if (r == null) throw new IllegalStateException(plan.name() + ": static activations without calibrated ranges");
        int bucket = r.bucket(ctx.active() ? ctx.timestep() : Double.NaN);
        StepContext.CfgHalf half = ctx.cfgHalf();
        return (row, own) -> r.absmax(bucket, half.isUncondRow(row, rows));
    }
}
