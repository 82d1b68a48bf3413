package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

/**
 * The elementwise pseudo-model that drives the golden sampler trajectories (golden/schedulers/NOTE.txt,
 * golden_next/schedulers/rflow/NOTE.txt): ε(x, t, c) = x·r + (0.1·sin 2x + 0.05·c)·(1 − r), r = t/1000, with t the
 * value the sampler passes to the model and c the mean of the condition (0 without one); the rectified-flow cases
 * use the velocity −ε. Computed in float64 like the reference, stored as F32.
 */
public final class PseudoModel {
    private PseudoModel() {}

    public static double eps(double x, double t, double c) {
        double r = t / 1000.0;
        return x * r + (0.1 * Math.sin(2 * x) + 0.05 * c) * (1 - r);
    }

    /** ε of every element of {@code x}, or −ε when {@code velocity}. */
    public static Tensor eps(Tensor x, double t, double c, boolean velocity) {
        float[] v = x.toFloatArray();
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) (velocity ? -eps(v[i], t, c) : eps(v[i], t, c));
        return Tensor.of(out, x.shape());
    }

    /** A learned-sigma output: [B, C, ...] prediction and tanh(x) as the variance channels → [B, 2C, ...]. */
    public static Tensor withTanhVariance(Tensor prediction, Tensor x) {
        long[] shape = prediction.shape();
        int batch = prediction.size(0);
        int block = Math.toIntExact(prediction.numel() / batch);
        float[] pv = prediction.toFloatArray(), xv = x.toFloatArray(), out = new float[2 * pv.length];
        for (int i = 0; i < batch; i++) {
            System.arraycopy(pv, i * block, out, 2 * i * block, block);
            for (int j = 0; j < block; j++) out[(2 * i + 1) * block + j] = (float) Math.tanh(xv[i * block + j]);
        }
        shape[1] *= 2;
        return Tensor.of(out, shape);
    }
}
