package dev.viditq.nn.layers;

/**
 * The fixed sinusoidal embeddings of the diffusion transformers: the timestep sinusoid and the MAE-style 1D/2D
 * positional embeddings. Each reproduces the rounding of the official code, not only its formula:
 * <ul>
 *   <li>timestep sinusoid: frequencies and arguments in float32 ({@code t.float() * freqs}, even in float64 runs),
 *       order [cos, sin];</li>
 *   <li>2D grid positions in float32 ({@code np.arange(g, dtype=float32) / (g / base) / scale}), the sin/cos
 *       themselves in float64, the result rounded to float32 once.</li>
 * </ul>
 */
public final class SinCos {
    private static final double MAX_PERIOD = 10000;

    private SinCos() {}

    /**
     * Timestep embedding [n, dim], row-major: for k < dim/2, freq_k = exp(-ln(10000)·k/(dim/2 - shift)),
     * out[i] = [cos(t_i·freq), sin(t_i·freq)] (a zero column appended when dim is odd).
     *
     * @param freqShift 0 for the original repos and diffusers' PixArt/Latte; diffusers' DiT uses 1
     */
    public static float[] timestep(float[] t, int dim, int freqShift) {
        int half = dim / 2;
        float[] freqs = new float[half];
        float minusLogPeriod = (float) -Math.log(MAX_PERIOD);
        float denominator = half - freqShift;
        for (int k = 0; k < half; k++) {
            float exponent = minusLogPeriod * (float) k / denominator; // float32 as torch computes it
            freqs[k] = (float) Math.exp(exponent);
        }
        float[] out = new float[t.length * dim];
        for (int i = 0; i < t.length; i++) {
            int row = i * dim;
            for (int k = 0; k < half; k++) {
                float arg = t[i] * freqs[k];
                out[row + k] = (float) Math.cos(arg);
                out[row + half + k] = (float) Math.sin(arg);
            }
        }
        return out;
    }

    /**
     * 2D positional embedding [gh·gw, dim] for a row-major grid of gh rows and gw columns.
     * Position along an axis of g cells: i / (g / baseSize) / scale, or i / scale when baseSize is NaN.
     * The first dim/2 channels encode the column coordinate, the second half the row (as MAE's meshgrid does).
     */
    public static float[] grid2d(int dim, int gh, int gw, double baseSize, double scale) {
        return grid2d(dim, axisPositions(gh, baseSize, scale), axisPositions(gw, baseSize, scale));
    }

    /**
     * Open-Sora 1.2's {@code PositionEmbedding2D}: the same table with positions computed in the other order,
     * (i / scale)·(baseSize / g), in float32.
     */
    public static float[] grid2dScaleFirst(int dim, int gh, int gw, double baseSize, double scale) {
        return grid2d(dim, scaleFirstPositions(gh, baseSize, scale), scaleFirstPositions(gw, baseSize, scale));
    }

    private static float[] grid2d(int dim, double[] rowPos, double[] colPos) {
        if (dim % 4 != 0) throw new IllegalArgumentException("2D sincos embedding needs a width divisible by 4, got " + dim);
        int gh = rowPos.length, gw = colPos.length;
        int half = dim / 2;
        double[] omega = omega(half);
        float[] out = new float[gh * gw * dim];
        for (int r = 0; r < gh; r++) {
            for (int c = 0; c < gw; c++) {
                int o = (r * gw + c) * dim;
                fill1d(out, o, colPos[c], omega);
                fill1d(out, o + half, rowPos[r], omega);
            }
        }
        return out;
    }

    private static double[] scaleFirstPositions(int cells, double baseSize, double scale) {
        double[] pos = new double[cells];
        float factor = (float) (baseSize / cells);
        for (int i = 0; i < cells; i++) pos[i] = ((float) i / (float) scale) * factor;
        return pos;
    }

    /** 1D positional embedding [length, dim] of positions i / scale (float64), channels [sin, cos]. */
    public static float[] line1d(int dim, int length, double scale) {
        if (dim % 2 != 0) throw new IllegalArgumentException("1D sincos embedding needs an even width, got " + dim);
        double[] omega = omega(dim);
        float[] out = new float[length * dim];
        for (int i = 0; i < length; i++) fill1d(out, i * dim, i / scale, omega);
        return out;
    }

    /** Float32 positions as numpy computes them from an float32 arange divided by Python floats. */
    private static double[] axisPositions(int cells, double baseSize, double scale) {
        double[] pos = new double[cells];
        float divisorBase = Double.isNaN(baseSize) ? 1f : (float) (cells / baseSize);
        float divisorScale = (float) scale;
        for (int i = 0; i < cells; i++) {
            float p = (float) i;
            if (!Double.isNaN(baseSize)) p = p / divisorBase;
            p = p / divisorScale;
            pos[i] = p;
        }
        return pos;
    }

    /** ω_k = 1 / 10000^(k / (dim/2)) for k < dim/2, in float64. */
    private static double[] omega(int dim) {
        int quarter = dim / 2;
        double[] omega = new double[quarter];
        for (int k = 0; k < quarter; k++) omega[k] = 1.0 / Math.pow(MAX_PERIOD, k / (dim / 2.0));
        return omega;
    }

    /** out[o .. o+2·|ω|) = [sin(pos·ω), cos(pos·ω)]. */
    private static void fill1d(float[] out, int o, double pos, double[] omega) {
        int n = omega.length;
        for (int k = 0; k < n; k++) {
            double a = pos * omega[k];
            out[o + k] = (float) Math.sin(a);
            out[o + n + k] = (float) Math.cos(a);
        }
    }
}
