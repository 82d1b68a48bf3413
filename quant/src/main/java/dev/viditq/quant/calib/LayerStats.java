package dev.viditq.quant.calib;

import dev.viditq.core.parallel.Parallel;
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
public final class LayerStats {
    public static final int HALVES = 2;
    private static final byte SKIPPED = -1;
    /** Below this many input values one thread scans them (a hand-off to the pool costs microseconds). */
    private static final long PARALLEL_MIN_VALUES = 1 << 15;
    /** Channels per thread at least, so that every thread reads whole cache lines of each row. */
    private static final int MIN_BLOCK_CHANNELS = 64;

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
     * <p>The scan runs on the pool's threads, each over its own block of channels (min, max and abs-max do not depend
     * on the order they are taken in, so the result is the same on any number of threads). A serial scan here was a
     * fixed cost beside every parallel GEMM: on a machine of many cores it took longer than the GEMM it observed.
     */
    public synchronized void record(MemorySegment x, int rowCount, int step, StepContext.CfgHalf half, IntPredicate realRows) {
        if (step < 0 || step >= steps) {
            throw new IllegalStateException(name + ": step " + step + " outside the " + steps + " steps being calibrated");
        }
        byte[] rowHalf = new byte[rowCount];            // the half of each row, or SKIPPED
        for (int r = 0; r < rowCount; r++) {
            if (realRows != null && !realRows.test(r)) {
                rowHalf[r] = SKIPPED;
                continue;
            }
            rowHalf[r] = (byte) (half.isUncondRow(r, rowCount) ? 1 : 0);
            rows[step * HALVES + rowHalf[r]]++;
        }
        int blocks = (long) rowCount * k < PARALLEL_MIN_VALUES ? 1 : Math.min(Parallel.threads(), Math.ceilDiv(k, MIN_BLOCK_CHANNELS));
        float[] lo = new float[blocks * HALVES], hi = new float[blocks * HALVES];
        Arrays.fill(lo, Float.POSITIVE_INFINITY);
        Arrays.fill(hi, Float.NEGATIVE_INFINITY);
        Parallel.forEach(blocks, b -> scanChannels(x, rowHalf, step, (int) ((long) k * b / blocks),
                (int) ((long) k * (b + 1) / blocks), lo, hi, b * HALVES));
        for (int b = 0; b < blocks; b++) {
            for (int h = 0; h < HALVES; h++) {
                int slot = step * HALVES + h;
                min[slot] = Math.min(min[slot], lo[b * HALVES + h]);
                max[slot] = Math.max(max[slot], hi[b * HALVES + h]);
            }
        }
    }

    /** Channels [c0, c1) of the rows not skipped: abs-max into the step's table, min / max into lo, hi [at + half]. */
    private void scanChannels(MemorySegment x, byte[] rowHalf, int step, int c0, int c1, float[] lo, float[] hi, int at) {
        int n = c1 - c0;
        float[] values = new float[n];   // one bulk copy per row, then a loop over an array (checks hoisted, unrolled)
        for (int r = 0; r < rowHalf.length; r++) {
            int h = rowHalf[r];
            if (h == SKIPPED) continue;
            MemorySegment.copy(x, Tensor.F32_LE, ((long) r * k + c0) * Float.BYTES, values, 0, n);
            int base = (step * HALVES + h) * k + c0;
            float l = lo[at + h], u = hi[at + h];
            for (int c = 0; c < n; c++) {
                float v = values[c];
                float a = Math.abs(v);
                if (a > absmax[base + c]) absmax[base + c] = a;
                if (v < l) l = v;
                if (v > u) u = v;
            }
            lo[at + h] = l;
            hi[at + h] = u;
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
