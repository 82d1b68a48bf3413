package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * The improved-DDPM ancestral sampler of DiT and Open-Sora 1.0/1.1 ({@code SpacedDiffusion.p_sample_loop}),
 * respaced to N steps with {@code space_timesteps(T, "N")}: the kept timesteps get their own betas
 * β'_i = 1 − ᾱ_{k_i}/ᾱ_{k_{i−1}}, the model receives the original integer timestep k_i.
 *
 * <p>Per step: x0 = sqrt(1/ᾱ)·x − sqrt(1/ᾱ − 1)·ε, mean = c1·x0 + c2·x (the posterior q(x_{t−1} | x_t, x0)), and
 * x ← mean + exp(½·log var)·z with z ~ N(0, 1) drawn every step (also the last, where it is multiplied by 0, so the
 * noise stream matches the reference). The variance is learned (LEARNED_RANGE: the model's extra channels v give
 * log var = f·log β' + (1 − f)·log σ²_posterior,clipped with f = (v + 1)/2) or, for models without learned sigma,
 * FIXED_LARGE (var = β', with the posterior variance at step 0). x0 is not clipped ({@code clip_denoised=False}).
 */
public final class IddpmSampler implements Sampler {
    public enum Variance { LEARNED_RANGE, FIXED_LARGE }

    private final NoiseSchedule schedule;
    private final Variance variance;

    public IddpmSampler(NoiseSchedule schedule, Variance variance) {
        this.schedule = schedule;
        this.variance = variance;
    }

    /** DiT's default: learned sigma over the 1000-step linear schedule. */
    public IddpmSampler() {
        this(NoiseSchedule.DEFAULT, Variance.LEARNED_RANGE);
    }

    @Override public String name() { return "iddpm"; }
    @Override public Prediction prediction() { return Prediction.EPSILON; }

    /**
     * improved-diffusion's {@code space_timesteps(num_timesteps, section_counts)}: the training range is cut into
     * equal sections and each section keeps {@code count} evenly strided timesteps, rounded half-to-even as
     * Python's round does. Returns the kept timesteps in increasing order.
     */
    public static int[] spaceTimesteps(int numTimesteps, int... sectionCounts) {
        int sizePer = numTimesteps / sectionCounts.length;
        int extra = numTimesteps % sectionCounts.length;
        int start = 0;
        TreeSet<Integer> kept = new TreeSet<>();
        for (int i = 0; i < sectionCounts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            int count = sectionCounts[i];
            if (count < 1 || size < count) {
                throw new IllegalArgumentException("cannot keep " + count + " steps out of a section of " + size);
            }
            double stride = count <= 1 ? 1 : (double) (size - 1) / (count - 1);
            double cur = 0.0;
            for (int k = 0; k < count; k++) {
                kept.add(start + (int) Math.rint(cur));
                cur += stride;
            }
            start += size;
        }
        return kept.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The respaced diffusion's coefficient tables, indexed by the respaced step 0..N-1. */
    private record Spaced(int[] timestepMap, double[] betas, double[] alphasCumprod,
                          double[] posteriorLogVarianceClipped, double[] coef1, double[] coef2) {}

    private Spaced respace(int steps) {
        Latents.requireSteps(steps, schedule.trainSteps(), name());
        int[] kept = spaceTimesteps(schedule.trainSteps(), steps);
        if (kept.length != steps) throw new IllegalStateException("respacing kept " + kept.length + " of " + steps + " steps");
        double[] full = schedule.alphasCumprod();
        int n = kept.length;
        double[] betas = new double[n];
        double last = 1.0;
        for (int i = 0; i < n; i++) {
            betas[i] = 1 - full[kept[i]] / last;
            last = full[kept[i]];
        }
        double[] ac = new double[n], acPrev = new double[n], posteriorVar = new double[n];
        double[] coef1 = new double[n], coef2 = new double[n], logVarClipped = new double[n];
        double acc = 1.0;
        for (int i = 0; i < n; i++) {
            acPrev[i] = acc;
            acc *= 1 - betas[i];
            ac[i] = acc;
            posteriorVar[i] = betas[i] * (1 - acPrev[i]) / (1 - ac[i]);
            coef1[i] = betas[i] * Math.sqrt(acPrev[i]) / (1 - ac[i]);
            coef2[i] = (1 - acPrev[i]) * Math.sqrt(1 - betas[i]) / (1 - ac[i]);
        }
        // the posterior variance is 0 at step 0; the reference clips its log by reusing step 1's value
        for (int i = 0; i < n; i++) logVarClipped[i] = Math.log(posteriorVar[n > 1 && i == 0 ? 1 : i]);
        return new Spaced(kept, betas, ac, logVarClipped, coef1, coef2);
    }

    @Override
    public double[] modelTimes(int steps) {
        int[] map = respace(steps).timestepMap();
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) out[i] = map[steps - 1 - i];
        return out;
    }

    @Override
    public Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener) {
        Latents.requireLatent(noise);
        long[] shape = noise.shape();
        Spaced sp = respace(steps);
        double[] x = Latents.toDoubles(noise);
        for (int call = 0; call < steps; call++) {
            int i = steps - 1 - call; // respaced index, counting down
            Step step = new Step(call, steps, sp.timestepMap()[i]);
            Latents.Output out = Latents.split(model.predict(Latents.toTensor(x, shape), step), shape);
            double[] logVar = logVariance(sp, i, out);
            double[] z = Latents.toDoubles(rng.next(shape));
            double recip = Math.sqrt(1 / sp.alphasCumprod()[i]), recipm1 = Math.sqrt(1 / sp.alphasCumprod()[i] - 1);
            double c1 = sp.coef1()[i], c2 = sp.coef2()[i];
            double[] eps = out.prediction();
            for (int k = 0; k < x.length; k++) {
                double x0 = recip * x[k] - recipm1 * eps[k];
                double mean = c1 * x0 + c2 * x[k];
                x[k] = i == 0 ? mean : mean + Math.exp(0.5 * logVar[k]) * z[k];
            }
            listener.stepDone(step, Latents.toTensor(x, shape));
        }
        return Latents.toTensor(x, shape);
    }

    private double[] logVariance(Spaced sp, int i, Latents.Output out) {
        double[] logVar = new double[out.prediction().length];
        switch (variance) {
            case LEARNED_RANGE -> {
                if (!out.hasVariance()) {
                    throw new IllegalArgumentException("iddpm with learned sigma needs a model output of 2C channels "
                            + "(ε and variance values); this model returns C");
                }
                double maxLog = Math.log(sp.betas()[i]), minLog = sp.posteriorLogVarianceClipped()[i];
                double[] v = out.varianceValues();
                for (int k = 0; k < logVar.length; k++) {
                    double frac = (v[k] + 1) / 2;
                    logVar[k] = frac * maxLog + (1 - frac) * minLog;
                }
            }
            case FIXED_LARGE -> {
                // model_variance = append(posterior_variance[1], betas[1:]): step 0 uses the clipped posterior value
                double lv = i == 0 ? sp.posteriorLogVarianceClipped()[0] : Math.log(sp.betas()[i]);
                Arrays.fill(logVar, lv);
            }
        }
        return logVar;
    }
}
