package dev.viditq.eval.mp;

import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.sampling.StepContext;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The denoiser with a memory of the float run: while recording, every forward pass's output is kept by (step, CFG
 * half); while replaying, passes of steps before {@link #replayBefore} return the recorded output instead of
 * computing. A run quantized only from step k on is identical to float before k, so replaying those steps gives
 * the same latents at k for any sampler (multistep history and stochastic noise included, since the sampler itself
 * runs every step) at the cost of the steps from k on only.
 */
final class SensitivityReplay implements Denoiser {
    private final Denoiser model;
    private final Map<String, Tensor> outputs = new HashMap<>();
    private final Map<Integer, Double> timesteps = new HashMap<>();
    private boolean recording;
    private int replayBefore;

    SensitivityReplay(Denoiser model) {
        this.model = model;
    }

    /** Record every pass of the next run (the float baseline), forgetting earlier recordings. */
    void record() {
        outputs.clear();
        timesteps.clear();
        recording = true;
        replayBefore = 0;
    }

    /** Replay the recorded passes of steps before {@code step}, compute the others. */
    void replayBefore(int step) {
        recording = false;
        replayBefore = step;
    }

    /** The model time of each recorded step. */
    double timestep(int step) {
        Double t = timesteps.get(step);
        if (t == null) throw new IllegalStateException("step " + step + " was not recorded");
        return t;
    }

    @Override
    public Tensor forward(Tensor x, Tensor t, Conditioning cond) {
        StepContext ctx = StepContext.current();
        if (!ctx.active()) throw new IllegalStateException("the sensitivity replay needs the pipeline's step context");
        String key = ctx.stepIndex() + "/" + ctx.cfgHalf();
        if (recording) {
            Tensor out = model.forward(x, t, cond);
            // kept across steps: outside the activation scope a guided prediction closes when it returns
            outputs.put(key, ActivationPool.unscoped(out::copy));
            timesteps.put(ctx.stepIndex(), ctx.timestep());
            return out;
        }
        if (ctx.stepIndex() < replayBefore) {
            Tensor recorded = outputs.get(key);
            if (recorded == null || timesteps.get(ctx.stepIndex()) != ctx.timestep()) {
                throw new IllegalStateException("step " + ctx.stepIndex() + " (" + ctx.cfgHalf() + ", time " + ctx.timestep()
                        + ") differs from the recorded float run; the runs must use the same sampler, steps and batch");
            }
            return recorded.copy(); // callers may write into the output (guidance works in place)
        }
        return model.forward(x, t, cond);
    }

    @Override
    public ModelInfo info() {
        return model.info();
    }

    @Override
    public Map<String, Linear> linears() {
        return model.linears();
    }

    @Override
    public List<InputScaling> inputScalings() {
        return model.inputScalings();
    }

    @Override
    public List<SharedInput> sharedInputs() {
        return model.sharedInputs();
    }

    @Override
    public Optional<Tensor> nullCaption() {
        return model.nullCaption();
    }

    /** The wrapped model is closed by its owner. */
    @Override
    public void close() {
        outputs.clear();
    }
}
