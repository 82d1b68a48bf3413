package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.CfgConvention;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.sampling.ModelFunction;
import dev.viditq.nn.sampling.Step;
import dev.viditq.nn.sampling.StepContext;

/**
 * The denoiser with classifier-free guidance, as a sampler's {@link ModelFunction}: for latents x [B, ...] it runs
 * the conditional and unconditional halves (in one doubled batch ordered by the family's {@link CfgConvention}, or
 * as two forward passes), guides the convention's channels with ε = u + s·(c − u) in float32 like the reference
 * code, and returns the conditional half's rows [B, outChannels, ...]. Around every forward pass it sets the
 * {@link StepContext}. With scale 1 (or no unconditional input) only the conditional pass runs.
 */
public final class GuidedModel implements ModelFunction {
    /** One doubled batch (fewer, larger matrix products) or two passes (each CFG half alone through the layers). */
    public enum Batching { BATCHED, SEPARATE }

    private final Denoiser model;
    private final Conditioning cond;
    private final Conditioning uncond;
    private final double scale;
    private final CfgConvention convention;
    private final Batching batching;
    private final Conditioning doubled; // cond and uncond in the convention's order, built once

    /**
     * @param cond   conditioning of the B samples
     * @param uncond the unconditional counterpart (null label, null/negative caption), or null for no guidance
     */
    public GuidedModel(Denoiser model, Conditioning cond, Conditioning uncond, double scale, CfgConvention convention,
                       Batching batching) {
        this.model = model;
        this.cond = cond;
        this.uncond = uncond;
        this.scale = scale;
        this.convention = convention;
        this.batching = batching;
        this.doubled = guided() && batching == Batching.BATCHED
                ? (convention.condFirst() ? concat(cond, uncond) : concat(uncond, cond)) : null;
    }

    private boolean guided() {
        return uncond != null && scale != 1.0;
    }

    /**
     * Everything the forward passes allocate from the activation pool is dead once the prediction is formed, so it
     * goes back to the pool when this returns (an {@link ActivationPool.Scope}); only the prediction, copied out, is
     * kept. Without the scope, what the model allocates outside its blocks (patch embedding, conditioning, final
     * layer, the doubled batch) waits for a garbage collection, which a model's small heap rarely triggers, and the
     * pool creates fresh blocks for it at every step.
     */
    @Override
    public Tensor predict(Tensor x, Step step) {
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            Tensor prediction = guidedPrediction(x, step);
            return ActivationPool.unscoped(prediction::copy);
        }
    }

    private Tensor guidedPrediction(Tensor x, Step step) {
        Tensor t = Tensor.of(new float[]{(float) step.modelTime()}, 1);
        if (!guided()) return forward(x, t, cond, step, StepContext.CfgHalf.NONE);
        int b = x.size(0);
        Tensor condOut, uncondOut;
        if (batching == Batching.BATCHED) {
            StepContext.CfgHalf half = convention.condFirst() ? StepContext.CfgHalf.BATCH_COND_FIRST : StepContext.CfgHalf.BATCH_UNCOND_FIRST;
            Tensor out = forward(Batches.concat(x, x), t, doubled, step, half);
            condOut = out.sliceRows(convention.condFirst() ? 0 : b, convention.condFirst() ? b : 2L * b);
            uncondOut = out.sliceRows(convention.condFirst() ? b : 0, convention.condFirst() ? 2L * b : b);
        } else {
            condOut = forward(x, t, cond, step, StepContext.CfgHalf.COND);
            uncondOut = forward(x, t, uncond, step, StepContext.CfgHalf.UNCOND);
        }
        guide(condOut, uncondOut);
        return condOut;
    }

    private Tensor forward(Tensor x, Tensor t, Conditioning c, Step step, StepContext.CfgHalf half) {
        return StepContext.callWith(new StepContext(step.index(), step.total(), step.modelTime(), half), () -> model.forward(x, t, c));
    }

    /** In place on {@code condOut}: guided channels become u + s·(c − u). */
    private void guide(Tensor condOut, Tensor uncondOut) {
        int batch = condOut.size(0), channels = condOut.size(1);
        int guidedChannels = Math.min(channels, convention.guidedChannels());
        long plane = condOut.numel() / ((long) batch * channels);
        float s = (float) scale;
        for (int b = 0; b < batch; b++) {
            long start = (long) b * channels * plane, end = start + guidedChannels * plane;
            for (long i = start; i < end; i++) {
                float c = condOut.getFloat(i), u = uncondOut.getFloat(i);
                condOut.setFloat(i, u + s * (c - u));
            }
        }
    }

    private static Conditioning concat(Conditioning first, Conditioning second) {
        return new Conditioning(
                Batches.concat(first.classLabels(), second.classLabels()),
                Batches.concat(first.caption(), second.caption()),
                Batches.concat(first.captionMask(), second.captionMask()),
                Batches.concat(first.imageHw(), second.imageHw()),
                Batches.concat(first.aspectRatio(), second.aspectRatio()),
                Batches.concat(first.fps(), second.fps()),
                Batches.concat(first.imageStates(), second.imageStates()));
    }
}
