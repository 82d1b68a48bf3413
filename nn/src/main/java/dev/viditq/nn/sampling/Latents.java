package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

import java.util.Arrays;

/** Conversions between the float64 state samplers integrate and the F32 tensors models consume. */
final class Latents {
    private Latents() {}

    static double[] toDoubles(Tensor t) {
        double[] out = new double[Math.toIntExact(t.numel())];
        for (int i = 0; i < out.length; i++) out[i] = t.getFloat(i);
        return out;
    }

    static Tensor toTensor(double[] values, long[] shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < values.length; i++) t.setFloat(i, (float) values[i]);
        return t;
    }

    /** A model output split into its prediction (channels 0..C-1) and, with learned sigma, the variance values. */
    record Output(double[] prediction, double[] varianceValues) {
        boolean hasVariance() {
            return varianceValues != null;
        }
    }

    /**
     * Splits {@code out} [B, C or 2C, ...] given the latent shape [B, C, ...]: per batch element the first C·rest
     * values are the prediction and, when there are 2C channels, the next C·rest the variance values.
     */
    static Output split(Tensor out, long[] latentShape) {
        long[] os = out.shape();
        if (os.length != latentShape.length || os[0] != latentShape[0] || !sameTail(os, latentShape)) {
            throw new IllegalArgumentException("model output " + Arrays.toString(os) + " does not match latent "
                    + Arrays.toString(latentShape) + " (expected C or 2C channels)");
        }
        long channels = latentShape[1];
        if (os[1] != channels && os[1] != 2 * channels) {
            throw new IllegalArgumentException("model output has " + os[1] + " channels, latent " + channels
                    + " (expected " + channels + ", or " + 2 * channels + " with learned sigma)");
        }
        int batch = Math.toIntExact(latentShape[0]);
        int block = Math.toIntExact(Tensor.numel(latentShape) / batch);
        boolean learned = os[1] == 2 * channels;
        double[] pred = new double[batch * block];
        double[] var = learned ? new double[batch * block] : null;
        int stride = learned ? 2 * block : block;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < block; i++) {
                pred[b * block + i] = out.getFloat((long) b * stride + i);
                if (learned) var[b * block + i] = out.getFloat((long) b * stride + block + i);
            }
        }
        return new Output(pred, var);
    }

    private static boolean sameTail(long[] a, long[] b) {
        for (int i = 2; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    static void requireSteps(int steps, int max, String sampler) {
        if (steps < 1 || steps > max) {
            throw new IllegalArgumentException(sampler + ": steps must be in 1.." + max + ", got " + steps);
        }
    }

    static void requireLatent(Tensor noise) {
        if (noise.rank() < 3) {
            throw new IllegalArgumentException("initial noise must be [B, C, ...], got " + noise);
        }
    }
}
