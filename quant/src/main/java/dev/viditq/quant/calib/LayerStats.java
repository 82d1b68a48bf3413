package dev.viditq.quant.calib;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.sampling.StepContext;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * What calibration records about one Linear's input, per sampling step and per CFG half (0 = conditional,
 * 1 = unconditional): the abs-max of every input channel, the min and max over the whole tensor, and how many
 * rows (tokens) were seen. Statistics only grow (max / min), so runs over more prompts merge by taking extremes.
 */
public final class LayerStats implements java.io.Serializable {
    @java.io.Serial
    private static final long serialVersionUID = 1L;
    public static final int HALVES = 2;

    private final String name;
    private final int k;
    private final int steps;
    private final float[] absmax;   // [steps][HALVES][k]
    private final float[] min;      // [steps][HALVES]
    private final float[] max;      // [steps][HALVES]
    private final long[] rows;      // [steps][HALVES]

    public LayerStats(String name, int k, int steps) {
        if (k < 1 || steps < 1) throw new IllegalArgumentException(name + ": need k >= 1 and steps >= 1");
        this.name = name;
        this.k = k;
        this.steps = steps;
        this.absmax = new float[steps * HALVES * k];
        this.min = new float[steps * HALVES];
        this.max = new float[steps * HALVES];
        this.rows = new long[steps * HALVES];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
    }

    /** Rebuilds stats from stored arrays (a calibration file); the arrays are taken as they are. */
    static LayerStats of(String name, int k, int steps, float[] absmax, float[] min, float[] max, long[] rows) {
        LayerStats s = new LayerStats(name, k, steps);
        System.arraycopy(absmax, 0, s.absmax, 0, s.absmax.length);
        System.arraycopy(min, 0, s.min, 0, s.min.length);
        System.arraycopy(max, 0, s.max, 0, s.max.length);
        System.arraycopy(rows, 0, s.rows, 0, s.rows.length);
        return s;
    }

    public String name() { return name; }
    public int k() { return k; }
    public int steps() { return steps; }

    float[] absmaxArray() { return absmax; }
    float[] minArray() { return min; }
    float[] maxArray() { return max; }
    long[] rowsArray() { return rows; }

    /** Records x [rows, k] (F32) seen at {@code step}; rows are split into CFG halves as {@code half} says. */
    public void record(MemorySegment x, int rowCount, int step, StepContext.CfgHalf half) {
        record(x, rowCount, step, half, null);
    }

    /**
     * Records the rows of x [rows, k] that {@code realRows} accepts (null: all) — padding tokens would widen the
     * ranges with values the model never uses. The CFG half of a row is decided by its index among all rows.
     *
     * <p>Called by the sampling thread after each GEMM of the layer (never by several threads at once, so the lock
     * is uncontended). The scan is serial: 6–15 % of the time of the 2-thread GEMM it observes on the project machine
     * ({@code LayerStatsSpeedCheck}, docs/BENCHMARKS.md, "Calibration on many cores"); splitting it over the pool
     * measured slower there.
     */
    public synchronized void record(MemorySegment x, int rowCount, int step, StepContext.CfgHalf half, IntPredicate realRows) {
        if (step < 0 || step >= steps) {
            throw new IllegalStateException(name + ": step " + step + " outside the " + steps + " steps being calibrated");
        }
        float[] row = new float[k];
        for (int r = 0; r < rowCount; r++) {
            if (realRows != null && !realRows.test(r)) continue;
            MemorySegment.copy(x, Tensor.F32_LE, (long) r * k * Float.BYTES, row, 0, k);
            int h = half.isUncondRow(r, rowCount) ? 1 : 0;
            int slot = step * HALVES + h;
            int base = slot * k;
            float lo = min[slot], hi = max[slot];
            for (int c = 0; c < k; c++) {
                float v = row[c];
                float a = Math.abs(v);
                if (a > absmax[base + c]) absmax[base + c] = a;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            min[slot] = lo;
            max[slot] = hi;
            rows[slot]++;
        }
    }

    /** Takes the extremes of {@code other} (same layer, same steps) into this. */
    public synchronized void merge(LayerStats other) {
        if (other.k != k || other.steps != steps) {
            throw new IllegalArgumentException(name + ": cannot merge stats of " + other.k + " channels × " + other.steps
                    + " steps into " + k + " × " + steps);
        }
        for (int i = 0; i < absmax.length; i++) absmax[i] = Math.max(absmax[i], other.absmax[i]);
        for (int i = 0; i < min.length; i++) {
            min[i] = Math.min(min[i], other.min[i]);
            max[i] = Math.max(max[i], other.max[i]);
            rows[i] += other.rows[i];
        }
    }

    /**
     * Folds in the statistics of prompts recorded after this one's, with {@link #record}'s comparisons (a strict
     * {@code <} / {@code >} keeps the value seen first, which matters for 0.0 against -0.0), so recording prompts
     * one by one and appending them in prompt order gives the bits a single recording of all of them gives.
     */
    public synchronized void append(LayerStats later) {
        if (later.k != k || later.steps != steps) {
            throw new IllegalArgumentException(name + ": cannot append stats of " + later.k + " channels × " + later.steps
                    + " steps to " + k + " × " + steps);
        }
        for (int i = 0; i < absmax.length; i++) if (later.absmax[i] > absmax[i]) absmax[i] = later.absmax[i];
        for (int i = 0; i < min.length; i++) {
            if (later.min[i] < min[i]) min[i] = later.min[i];
            if (later.max[i] > max[i]) max[i] = later.max[i];
            rows[i] += later.rows[i];
        }
    }

    /** Rows seen at (step, half). */
    public long rows(int step, int half) {
        return rows[step * HALVES + half];
    }

    /** Per-channel abs-max over every step and half: ViDiT-Q's act_max_j. */
    public float[] channelAbsMax() {
        float[] out = new float[k];
        for (int slot = 0; slot < steps * HALVES; slot++) {
            for (int c = 0; c < k; c++) out[c] = Math.max(out[c], absmax[slot * k + c]);
        }
        return out;
    }

    /**
     * The abs-max of the input after multiplication by {@code smooth} (null: none), at (step, half):
     * max_j absmax[step, half, j] · |smooth_j|. With no smoothing this is max(|min|, |max|) of the tensor.
     */
    public float scaledAbsMax(int step, int half, float[] smooth) {
        int base = (step * HALVES + half) * k;
        float m = 0;
        for (int c = 0; c < k; c++) m = Math.max(m, absmax[base + c] * (smooth == null ? 1f : Math.abs(smooth[c])));
        return m;
    }

    /** Tensor min / max at (step, half) (+∞ / −∞ when nothing was seen). */
    public float min(int step, int half) { return min[step * HALVES + half]; }
    public float max(int step, int half) { return max[step * HALVES + half]; }
}
