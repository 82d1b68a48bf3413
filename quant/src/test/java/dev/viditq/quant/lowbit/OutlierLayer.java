package dev.viditq.quant.lowbit;

import java.util.SplittableRandom;

/**
 * A linear layer with planted outliers, the case low-bit weights fail on: inputs X [m, k] correlated as real
 * activations are (x = g·M + 0.3·e: k channels mixed from k/4 latent factors g, plus independent noise e, all
 * N(0, 1)), with a few input channels {@value #CHANNEL_GAIN}× larger (activation outliers, as DiT inputs after adaLN);
 * weights W [n, k] ~ N(0, 1/k) with a few single weights {@value #WEIGHT_GAIN}·3/√k large (which stretch their row's
 * grid). Sizes are odd on purpose (no tile or group boundary lines up by accident).
 */
record OutlierLayer(int n, int k, int m, float[] w, float[] x, double[] hessian) {
    static final double CHANNEL_GAIN = 25, WEIGHT_GAIN = 12;

    static OutlierLayer of(long seed, int n, int k, int m, int outlierChannels, int outlierWeights) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] gain = new double[k];
        java.util.Arrays.fill(gain, 1);
        for (int i = 0; i < outlierChannels; i++) gain[r.nextInt(k)] = CHANNEL_GAIN;
        int factors = Math.max(1, k / 4);
        double[] mix = new double[factors * k];
        for (int i = 0; i < mix.length; i++) mix[i] = gaussian(r) / Math.sqrt(factors);
        float[] x = new float[m * k];
        double[] g = new double[factors];
        for (int t = 0; t < m; t++) {
            for (int f = 0; f < factors; f++) g[f] = gaussian(r);
            for (int j = 0; j < k; j++) {
                double v = 0.3 * gaussian(r);
                for (int f = 0; f < factors; f++) v += g[f] * mix[f * k + j];
                x[t * k + j] = (float) (v * gain[j]);
            }
        }
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) (gaussian(r) / Math.sqrt(k));
        for (int i = 0; i < outlierWeights; i++) w[r.nextInt(w.length)] = (float) (WEIGHT_GAIN * 3 / Math.sqrt(k) * (r.nextBoolean() ? 1 : -1));
        return new OutlierLayer(n, k, m, w, x, gram(x, m, k));
    }

    static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** XᵀX in double, the scalar way. */
    static double[] gram(float[] x, int m, int k) {
        double[] h = new double[k * k];
        for (int t = 0; t < m; t++) {
            for (int i = 0; i < k; i++) {
                double a = x[t * k + i];
                for (int j = 0; j < k; j++) h[i * k + j] += a * x[t * k + j];
            }
        }
        return h;
    }

    /** ‖(W − Ŵ)·Xᵀ‖_F / ‖W·Xᵀ‖_F: the output error of the layer with weight {@code approx}, relative. */
    double relativeOutputError(float[] approx) {
        double err = 0, ref = 0;
        double[] d = new double[k], f = new double[k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                d[j] = w[i * k + j] - approx[i * k + j];
                f[j] = w[i * k + j];
            }
            err += quadratic(d);
            ref += quadratic(f);
        }
        return Math.sqrt(err / ref);
    }

    private double quadratic(double[] v) {
        double s = 0;
        for (int a = 0; a < k; a++) {
            double row = 0;
            for (int b = 0; b < k; b++) row += hessian[a * k + b] * v[b];
            s += v[a] * row;
        }
        return s;
    }
}
