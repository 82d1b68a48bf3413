package dev.viditq.nn.models.wan;

import dev.viditq.core.parallel.Parallel;

import java.lang.foreign.MemorySegment;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Wan's 3D rotary position embedding. A head of d channels is split into three runs of interleaved pairs:
 * t = d − 2·h channels rotated by the token's frame, then h = w = 2·⌊d/6⌋ channels by its patch row and by its
 * patch column (16 → 8/4/4, 128 → 44/42/42). An axis of a channels has frequencies f_k = θ^(−2k/a), k &lt; a/2,
 * θ = 10000; pair (x[2i], x[2i+1]) of the axis's run becomes (x₀·cos − x₁·sin, x₀·sin + x₁·cos) at angle p·f_k.
 *
 * <p>The tables are float32 values of cos/sin computed in float64 (the official {@code get_1d_rotary_pos_embed}
 * in float64, cast to float32), for positions below {@code maxPositions} (rope_max_seq_len).
 */
public final class WanRope {
    private static final double THETA = 10000.0;
    /** Rows per task when rotating: enough to pay for the hand-off. */
    private static final int ROWS_PER_TASK = 64;

    private final int headDim;
    private final int tPairs, hPairs, wPairs;
    private final int maxPositions;

    public WanRope(int headDim, int maxPositions) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("3D RoPE needs an even head width, got " + headDim);
        int h = 2 * (headDim / 6);
        this.headDim = headDim;
        this.hPairs = h / 2;
        this.wPairs = h / 2;
        this.tPairs = (headDim - 2 * h) / 2;
        this.maxPositions = maxPositions;
    }

    /** Channels per axis: {frame, row, column}. */
    public int[] axisChannels() {
        return new int[]{2 * tPairs, 2 * hPairs, 2 * wPairs};
    }

    /** The cos/sin tables of a grid of {@code frames × rows × cols} patches, computed once per grid size. */
    public Grid grid(int frames, int rows, int cols) {
        for (int n : new int[]{frames, rows, cols}) {
            if (n > maxPositions) {
                throw new IllegalArgumentException("a patch grid of " + frames + "×" + rows + "×" + cols
                        + " exceeds the RoPE table of " + maxPositions + " positions (rope_max_seq_len)");
            }
        }
        return new Grid(frames, rows, cols, Axis.of(tPairs, 2 * tPairs, frames), Axis.of(hPairs, 2 * hPairs, rows),
                Axis.of(wPairs, 2 * wPairs, cols));
    }

    /** cos/sin [positions, pairs] of one axis of {@code channels} channels. */
    record Axis(int pairs, float[] cos, float[] sin) {
        static Axis of(int pairs, int channels, int positions) {
            float[] cos = new float[positions * pairs], sin = new float[positions * pairs];
            for (int p = 0; p < positions; p++) {
                for (int k = 0; k < pairs; k++) {
                    double angle = p * (1.0 / Math.pow(THETA, (double) (2 * k) / channels));
                    cos[p * pairs + k] = (float) Math.cos(angle);
                    sin[p * pairs + k] = (float) Math.sin(angle);
                }
            }
            return new Axis(pairs, cos, sin);
        }

        /** Writes this axis's pairs for {@code position} into cos/sin at pair index {@code at}. */
        void fill(int position, float[] c, float[] s, int at) {
            System.arraycopy(cos, position * pairs, c, at, pairs);
            System.arraycopy(sin, position * pairs, s, at, pairs);
        }
    }

    /** The tables of one patch grid; tokens are ordered (frame, row, column) within each sample. */
    public final class Grid {
        private final int frames, rows, cols;
        private final Axis t, h, w;

        private Grid(int frames, int rows, int cols, Axis t, Axis h, Axis w) {
            this.frames = frames;
            this.rows = rows;
            this.cols = cols;
            this.t = t;
            this.h = h;
            this.w = w;
        }

        public int tokens() {
            return frames * rows * cols;
        }

        /**
         * In place on {@code samples} samples of {@link #tokens()} rows each, {@code heads · headDim} floats per row:
         * every head of a token rotated by the token's (frame, row, column).
         */
        public void apply(MemorySegment buf, int samples, int heads) {
            int tokens = tokens(), width = heads * headDim;
            long total = (long) samples * tokens;
            int tasks = (int) Math.ceilDiv(total, ROWS_PER_TASK);
            Parallel.forEach(tasks, task -> {
                float[] cos = new float[headDim / 2], sin = new float[headDim / 2], row = new float[width];
                long end = Math.min(total, (long) (task + 1) * ROWS_PER_TASK);
                for (long r = (long) task * ROWS_PER_TASK; r < end; r++) {
                    int token = (int) (r % tokens);
                    t.fill(token / (rows * cols), cos, sin, 0);
                    h.fill(token / cols % rows, cos, sin, tPairs);
                    w.fill(token % cols, cos, sin, tPairs + hPairs);
                    long at = r * width * Float.BYTES;
                    MemorySegment.copy(buf, F32_LE, at, row, 0, width);
                    rotate(row, heads, cos, sin);
                    MemorySegment.copy(row, 0, buf, F32_LE, at, width);
                }
            });
        }

        private void rotate(float[] row, int heads, float[] cos, float[] sin) {
            for (int head = 0; head < heads; head++) {
                int base = head * headDim;
                for (int i = 0; i < cos.length; i++) {
                    float x0 = row[base + 2 * i], x1 = row[base + 2 * i + 1];
                    row[base + 2 * i] = x0 * cos[i] - x1 * sin[i];
                    row[base + 2 * i + 1] = x0 * sin[i] + x1 * cos[i];
                }
            }
        }
    }
}
