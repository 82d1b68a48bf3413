package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

import java.util.Arrays;

/**
 * PixArt's own DPM-Solver++ ({@code diffusion/model/dpm_solver.py}: {@code DPMS(...).sample(z, steps,
 * order=2, skip_type="time_uniform", method="multistep")}): a continuous-time VP solver over the discrete
 * schedule. log α(t) is the piecewise-linear interpolation (with linear extrapolation) of ½·cumsum(ln(1−β)) at
 * t_i = (i+1)/T; σ(t) = sqrt(1 − α²), λ = ln α − ln σ. Times go linearly from 1 to 1/T in N steps; the model sees
 * 1000·(t − 1/T). Multistep, first order for the first step and, when N &lt; 10, for the last ones
 * (lower_order_final); no final denoising step. One model call per step: the N+1-th value is never evaluated.
 */
public final class PixArtDpmSolver implements Sampler {
    /** Below this many steps the last steps drop to lower order, as in the reference. */
    private static final int LOWER_ORDER_FINAL_BELOW = 10;

    private final int order;
    private final int trainSteps;
    private final double[] tKnots;       // (i+1)/T, increasing
    private final double[] logAlphaKnots; // ½·cumsum(ln(1−β)), decreasing

    public PixArtDpmSolver(NoiseSchedule schedule, int order) {
        if (order != 1 && order != 2) throw new IllegalArgumentException("dpm-solver order " + order + " is not supported (1 or 2)");
        this.order = order;
        this.trainSteps = schedule.trainSteps();
        double[] betas = schedule.betas();
        this.tKnots = Arrays.copyOfRange(NoiseSchedule.linspace(0, 1, trainSteps + 1), 1, trainSteps + 1);
        this.logAlphaKnots = new double[trainSteps];
        double acc = 0;
        for (int i = 0; i < trainSteps; i++) {
            acc += Math.log(1 - betas[i]);
            logAlphaKnots[i] = 0.5 * acc;
        }
    }

    public PixArtDpmSolver() {
        this(NoiseSchedule.DEFAULT, 2);
    }

    @Override public String name() { return "dpm-solver"; }
    @Override public Prediction prediction() { return Prediction.EPSILON; }

    /** The N+1 continuous times from 1 down to 1/T. */
    double[] times(int steps) {
        Latents.requireSteps(steps, Integer.MAX_VALUE, name());
        if (steps < order) throw new IllegalArgumentException(name() + ": needs at least " + order + " steps for order " + order);
        return NoiseSchedule.linspace(1.0, 1.0 / trainSteps, steps + 1);
    }

    private double modelTime(double t) {
        return (t - 1.0 / trainSteps) * 1000.0;
    }

    @Override
    public double[] modelTimes(int steps) {
        double[] t = times(steps);
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) out[i] = modelTime(t[i]);
        return out;
    }

    @Override
    public Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener) {
        Latents.requireLatent(noise);
        long[] shape = noise.shape();
        double[] ts = times(steps);
        double[] x = Latents.toDoubles(noise);
        double[] x0Prev = null;
        double[] x0 = dataPrediction(model, x, shape, ts[0], new Step(0, steps, modelTime(ts[0])));
        for (int i = 1; i <= steps; i++) {
            int stepOrder = order;
            if (x0Prev == null) stepOrder = 1;
            else if (steps < LOWER_ORDER_FINAL_BELOW) stepOrder = Math.min(order, steps + 1 - i);
            if (stepOrder == 1) firstOrderUpdate(x, x0, ts[i - 1], ts[i]);
            else secondOrderUpdate(x, x0, x0Prev, ts[i - 2], ts[i - 1], ts[i]);
            // step i-1 is complete: it evaluated the model at ts[i-1] and moved x to ts[i]
            listener.stepDone(new Step(i - 1, steps, modelTime(ts[i - 1])), Latents.toTensor(x, shape));
            if (i < steps) {
                x0Prev = x0;
                x0 = dataPrediction(model, x, shape, ts[i], new Step(i, steps, modelTime(ts[i])));
            }
        }
        return Latents.toTensor(x, shape);
    }

    private double[] dataPrediction(ModelFunction model, double[] x, long[] shape, double t, Step step) {
        double[] eps = Latents.split(model.predict(Latents.toTensor(x, shape), step), shape).prediction();
        double alpha = alpha(t), sigma = sigma(t);
        double[] x0 = new double[x.length];
        for (int k = 0; k < x.length; k++) x0[k] = (x[k] - sigma * eps[k]) / alpha;
        return x0;
    }

    private void firstOrderUpdate(double[] x, double[] x0, double s, double t) {
        double h = lambda(t) - lambda(s);
        double ratio = sigma(t) / sigma(s), coef = alpha(t) * Math.expm1(-h);
        for (int k = 0; k < x.length; k++) x[k] = ratio * x[k] - coef * x0[k];
    }

    private void secondOrderUpdate(double[] x, double[] x0, double[] x0Prev, double tPrev, double s, double t) {
        double h = lambda(t) - lambda(s);
        double r0 = (lambda(s) - lambda(tPrev)) / h;
        double ratio = sigma(t) / sigma(s), coef = alpha(t) * Math.expm1(-h);
        for (int k = 0; k < x.length; k++) {
            double d1 = (x0[k] - x0Prev[k]) / r0;
            x[k] = ratio * x[k] - coef * x0[k] - 0.5 * coef * d1;
        }
    }

    double logAlpha(double t) {
        return interpolate(t, tKnots, logAlphaKnots);
    }

    double alpha(double t) {
        return Math.exp(logAlpha(t));
    }

    double sigma(double t) {
        return Math.sqrt(1 - Math.exp(2 * logAlpha(t)));
    }

    double lambda(double t) {
        double la = logAlpha(t);
        return la - 0.5 * Math.log(1 - Math.exp(2 * la));
    }

    /**
     * The reference's {@code interpolate_fn}: piecewise linear through (xp, yp) with xp increasing, extended
     * linearly beyond both ends by the first and last segments.
     */
    static double interpolate(double x, double[] xp, double[] yp) {
        int j = Arrays.binarySearch(xp, x);
        if (j < 0) j = -j - 2; // index of the last knot below x
        j = Math.max(0, Math.min(j, xp.length - 2));
        return yp[j] + (x - xp[j]) * (yp[j + 1] - yp[j]) / (xp[j + 1] - xp[j]);
    }
}
