package dev.viditq.nn.models;

import dev.viditq.core.tensor.Tensor;

/** Validation and normalisation of the non-latent inputs, shared by the families; errors name the input. */
final class Inputs {
    private Inputs() {}

    /** Timesteps [B], [1] (broadcast) or a scalar, as floats (the official code calls t.float()). */
    static float[] timesteps(Tensor t, int batch) {
        if (t == null) throw new IllegalArgumentException("no timesteps given");
        long n = t.numel();
        if (n != batch && n != 1) {
            throw new IllegalArgumentException("timesteps " + t + " must hold 1 or " + batch + " values (one per sample)");
        }
        float[] out = new float[batch];
        for (int b = 0; b < batch; b++) out[b] = t.getFloat(n == 1 ? 0 : b);
        return out;
    }

    /** Class labels [B] in [0, numClasses] (numClasses = the null class). */
    static int[] labels(Tensor y, int batch, int tableRows) {
        if (y == null) throw new IllegalArgumentException("this class-conditional model needs class labels");
        if (y.numel() != batch) throw new IllegalArgumentException("class labels " + y + " must hold one label per sample (" + batch + ")");
        int[] out = new int[batch];
        for (int b = 0; b < batch; b++) {
            long v = y.getLong(b);
            if (v < 0 || v >= tableRows) {
                throw new IllegalArgumentException("class label " + v + " is outside [0, " + (tableRows - 1) + "]");
            }
            out[b] = (int) v;
        }
        return out;
    }

    /** Caption embeddings as F32 [B, L, Dt]; accepts the original repos' [B, 1, L, Dt]. */
    static Tensor caption(Tensor c, int batch, int channels) {
        if (c == null) throw new IllegalArgumentException("this text-conditional model needs caption embeddings");
        Tensor t = c;
        if (t.rank() == 4 && t.dim(1) == 1) t = t.reshape(t.dim(0), t.dim(2), t.dim(3));
        if (t.rank() != 3) throw new IllegalArgumentException("caption embeddings must be [B, L, " + channels + "], got " + c);
        if (t.dim(0) != batch) {
            throw new IllegalArgumentException("caption embeddings " + c + " have batch " + t.dim(0) + ", x has " + batch);
        }
        if (t.dim(2) != channels) {
            throw new IllegalArgumentException("caption embeddings " + c + " have width " + t.dim(2) + ", the model takes " + channels);
        }
        return t.toF32();
    }

    /**
     * Per-sample scalars [rows, d] (rows tiling the batch, as SizeEmbedder's {@code s.repeat}) → [batch·d] floats.
     */
    static float[] perSampleScalars(Tensor s, int batch, int d, String what) {
        if (s == null) throw new IllegalArgumentException("this model needs the micro-condition " + what);
        long n = s.numel();
        if (n % d != 0 || n == 0 || batch % (n / d) != 0) {
            throw new IllegalArgumentException(what + " " + s + " must hold " + d + " value(s) per sample for a batch of " + batch);
        }
        int rows = (int) (n / d);
        float[] out = new float[batch * d];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < d; j++) out[b * d + j] = s.getFloat((long) (b % rows) * d + j);
        }
        return out;
    }
}
