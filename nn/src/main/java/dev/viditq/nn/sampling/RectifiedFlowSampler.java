package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * Open-Sora 1.2's rectified-flow Euler sampler ({@code RFLOW.sample} of {@code opensora/schedulers/rf}), checked
 * against the official trajectories (golden case {@code schedulers/rflow}). Along x_t = (1 − t/T)·x0 + (t/T)·noise
 * the model predicts the velocity v = x0 − noise; times start at T = 1000 and step down as t_i = (1 − i/N)·T
 * (rounded to integers with {@code use_discrete_timesteps}), made float32 as {@code torch.tensor} does, then shifted
 * towards T by the resolution- and length-dependent {@code timestep_transform} s' = r·s/(1 + (r − 1)·s), s = t/T;
 * each step moves x ← x + v·(t_i − t_{i+1})/T, the last by t_{N−1}/T. The model receives the shifted, real-valued
 * t_i. Classifier-free guidance ([cond | null] in one batch, v = v_u + s·(v_c − v_u) on the first C channels) is the
 * caller's ({@code GuidedModel}).
 */
public final class RectifiedFlowSampler implements Sampler {
    private final int numTimesteps;
    private final double shift;
    private final boolean discreteTimesteps;

    /**
     * @param numTimesteps T (1000 in Open-Sora)
     * @param shift        the ratio r of the timestep transform; 1 leaves the times unshifted
     */
    public RectifiedFlowSampler(int numTimesteps, double shift) {
        this(numTimesteps, shift, false);
    }

    /** @param discreteTimesteps {@code use_discrete_timesteps}: t_i rounded to integers before the transform */
    public RectifiedFlowSampler(int numTimesteps, double shift, boolean discreteTimesteps) {
        if (numTimesteps < 1) throw new IllegalArgumentException("rflow: num_timesteps must be positive");
        if (!(shift > 0) || Double.isInfinite(shift)) throw new IllegalArgumentException("rflow: shift must be positive, got " + shift);
        this.numTimesteps = numTimesteps;
        this.shift = shift;
        this.discreteTimesteps = discreteTimesteps;
    }

    /**
     * Open-Sora 1.2's {@code timestep_transform} ratio for an output of {@code heightPx × widthPx} pixels and
     * {@code frames} frames: sqrt(H·W / 512²) · sqrt(F') with F' = 1 for images and ⌊F/17⌋·5 for videos
     * (the frame count after its VAE's temporal compression).
     */
    public static double openSoraShift(int heightPx, int widthPx, int frames) {
        double space = Math.sqrt((double) heightPx * widthPx / (512.0 * 512.0));
        int latentFrames = frames == 1 ? 1 : frames / 17 * 5;
        if (latentFrames < 1) {
            throw new IllegalArgumentException("rflow: Open-Sora's time shift is undefined for " + frames + " frames (use 1 or at least 17)");
        }
        return space * Math.sqrt(latentFrames);
    }

    @Override public String name() { return "rflow"; }
    @Override public Prediction prediction() { return Prediction.VELOCITY; }

    @Override
    public double[] modelTimes(int steps) {
        Latents.requireSteps(steps, Integer.MAX_VALUE, name());
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) {
            double t = (1.0 - (double) i / steps) * numTimesteps;
            if (discreteTimesteps) t = Math.rint(t); // Python's round(): half to even, as rint
            // torch.tensor makes t float32, and t / num_timesteps stays float32; the ratio (float64) promotes the rest
            float s = (float) t / numTimesteps;
            out[i] = shift * s / (1 + (shift - 1) * s) * numTimesteps;
        }
        return out;
    }

    @Override
    public Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener) {
        Latents.requireLatent(noise);
        long[] shape = noise.shape();
        double[] ts = modelTimes(steps);
        double[] x = Latents.toDoubles(noise);
        for (int i = 0; i < steps; i++) {
            Step step = new Step(i, steps, ts[i]);
            double[] v = Latents.split(model.predict(Latents.toTensor(x, shape), step), shape).prediction();
            double dt = (i < steps - 1 ? ts[i] - ts[i + 1] : ts[i]) / numTimesteps;
            for (int k = 0; k < x.length; k++) x[k] += v[k] * dt;
            listener.stepDone(step, Latents.toTensor(x, shape));
        }
        return Latents.toTensor(x, shape);
    }
}
