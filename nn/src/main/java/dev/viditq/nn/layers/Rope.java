package dev.viditq.nn.layers;

import java.lang.foreign.MemorySegment;
import java.util.function.LongToIntFunction;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Rotary position embedding as lucidrains' rotary-embedding-torch applies it (Open-Sora's temporal attention):
 * frequencies f_i = 1 / θ^(2i/d) for i < d/2, each used by an interleaved pair (2i, 2i+1) of a head's channels:
 * <pre>  out[2i] = x[2i]·cos(p·f_i) − x[2i+1]·sin(p·f_i),   out[2i+1] = x[2i+1]·cos(p·f_i) + x[2i]·sin(p·f_i)</pre>
 * with p the token's position in its sequence; float32 throughout, as the library computes it.
 */
public final class Rope {
    private final float[] freqs;

    public Rope(float[] freqs) {
        this.freqs = freqs.clone();
    }

    /** The library's default frequencies for a head width {@code dim} (θ = 10000). */
    public static Rope standard(int dim) {
        float[] f = new float[dim / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) (1.0 / Math.pow(10000, (float) (2 * i) / dim));
        return new Rope(f);
    }

    public int dim() {
        return 2 * freqs.length;
    }

    /**
     * In place on {@code rows} rows of {@code heads·headDim} floats (row r at float offset r·rowWidth + offset):
     * every head of row r rotated by position {@code position(r)}.
     */
    public void apply(MemorySegment buf, long rows, int rowWidth, int offset, int heads, int headDim, LongToIntFunction position) {
        if (headDim < dim()) throw new IllegalArgumentException("RoPE of width " + dim() + " on heads of " + headDim);
        float[] cos = new float[freqs.length], sin = new float[freqs.length];
        int lastPos = Integer.MIN_VALUE;
        for (long r = 0; r < rows; r++) {
            int p = position.applyAsInt(r);
            if (p != lastPos) {
                for (int i = 0; i < freqs.length; i++) {
                    float angle = p * freqs[i];
                    cos[i] = (float) Math.cos(angle);
                    sin[i] = (float) Math.sin(angle);
                }
                lastPos = p;
            }
            for (int h = 0; h < heads; h++) {
                long base = r * rowWidth + offset + (long) h * headDim;
                for (int i = 0; i < freqs.length; i++) {
                    long a = base + 2L * i;
                    float x0 = buf.getAtIndex(F32_LE, a), x1 = buf.getAtIndex(F32_LE, a + 1);
                    buf.setAtIndex(F32_LE, a, x0 * cos[i] - x1 * sin[i]);
                    buf.setAtIndex(F32_LE, a + 1, x1 * cos[i] + x0 * sin[i]);
                }
            }
        }
    }
}
