package dev.viditq.nn.models.wan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * 3D RoPE: the t/h/w split of the official code, and the property that makes it a relative position code: the dot
 * product of a rotated query and key depends only on the offset between their (frame, row, column) positions.
 */
class WanRopeTest {
    @Test
    void splitsTheHeadAsTheOfficialCode() {
        assertArrayEquals(new int[]{8, 4, 4}, new WanRope(16, 8).axisChannels());
        assertArrayEquals(new int[]{44, 42, 42}, new WanRope(128, 8).axisChannels());
        assertArrayEquals(new int[]{8, 6, 6}, new WanRope(20, 8).axisChannels());
        assertArrayEquals(new int[]{6, 6, 6}, new WanRope(18, 8).axisChannels());
        assertArrayEquals(new int[]{10, 6, 6}, new WanRope(22, 8).axisChannels());
        assertThrows(IllegalArgumentException.class, () -> new WanRope(15, 8));
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 20, 26})
    void dotProductsDependOnlyOnTheOffset(int headDim) {
        int frames = 4, rows = 3, cols = 5, heads = 2;
        WanRope.Grid grid = new WanRope(headDim, 16).grid(frames, rows, cols);
        SplittableRandom r = new SplittableRandom(headDim);
        float[] q = new float[heads * headDim], k = new float[heads * headDim];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
            k[i] = (float) r.nextGaussian();
        }
        // every token carries the same q (then k): after rotation, token (f, y, x) holds q rotated by its position
        float[][] rq = rotated(grid, q, heads), rk = rotated(grid, k, heads);
        int a = index(0, 1, 2, rows, cols), b = index(2, 2, 0, rows, cols);       // offset (2, 1, -2)
        int c = index(1, 0, 4, rows, cols), d = index(3, 1, 2, rows, cols);       // the same offset elsewhere
        for (int h = 0; h < heads; h++) {
            assertEquals(dot(rq[a], rk[b], h, headDim), dot(rq[c], rk[d], h, headDim), 1e-4, "head " + h);
        }
        // and rotation keeps lengths
        for (int h = 0; h < heads; h++) assertEquals(dot(q, q, h, headDim), dot(rq[b], rq[b], h, headDim), 1e-3);
        // position 0 is the identity
        assertArrayEquals(q, rq[0], 0f);
    }

    @Test
    void gridsBeyondTheTableAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WanRope(16, 4).grid(5, 2, 2));
        assertTrue(e.getMessage().contains("rope_max_seq_len"), e.getMessage());
    }

    private static float[][] rotated(WanRope.Grid grid, float[] v, int heads) {
        int tokens = grid.tokens(), width = v.length;
        MemorySegment buf = Arena.ofAuto().allocate((long) tokens * width * Float.BYTES);
        for (int t = 0; t < tokens; t++) MemorySegment.copy(v, 0, buf, F32_LE, (long) t * width * Float.BYTES, width);
        grid.apply(buf, 1, heads);
        float[][] out = new float[tokens][width];
        for (int t = 0; t < tokens; t++) MemorySegment.copy(buf, F32_LE, (long) t * width * Float.BYTES, out[t], 0, width);
        return out;
    }

    private static int index(int f, int y, int x, int rows, int cols) {
        return (f * rows + y) * cols + x;
    }

    private static double dot(float[] a, float[] b, int head, int headDim) {
        double s = 0;
        for (int i = head * headDim; i < (head + 1) * headDim; i++) s += (double) a[i] * b[i];
        return s;
    }
}
