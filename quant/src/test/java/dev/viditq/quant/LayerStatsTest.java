package dev.viditq.quant;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.sampling.StepContext.CfgHalf;
import dev.viditq.quant.calib.LayerStats;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link LayerStats#record} against an oracle written from its definition: odd sizes, skipped rows (caption
 * padding), every CFG half and batch order, several steps; every (step, half, channel) value is compared.
 */
class LayerStatsTest {

    /** The definition: per (step, half) slot, the abs-max of every channel, the min and max, the rows counted. */
    private static final class Oracle {
        final int k;
        final float[] absmax, min, max;
        final long[] rows;

        Oracle(int k, int steps) {
            this.k = k;
            absmax = new float[steps * 2 * k];
            min = new float[steps * 2];
            max = new float[steps * 2];
            rows = new long[steps * 2];
            java.util.Arrays.fill(min, Float.POSITIVE_INFINITY);
            java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        }

        void record(float[] x, int rowCount, int step, CfgHalf half, IntPredicate real) {
            for (int r = 0; r < rowCount; r++) {
                if (real != null && !real.test(r)) continue;
                int slot = step * 2 + (half.isUncondRow(r, rowCount) ? 1 : 0);
                rows[slot]++;
                for (int c = 0; c < k; c++) {
                    float v = x[r * k + c];
                    absmax[slot * k + c] = Math.max(absmax[slot * k + c], Math.abs(v));
                    min[slot] = Math.min(min[slot], v);
                    max[slot] = Math.max(max[slot], v);
                }
            }
        }
    }

    @Test
    void matchesTheOracle() {
        Random rnd = new Random(3);
        int[][] shapes = {{1, 1}, {3, 7}, {10, 63}, {17, 65}, {260, 129}, {518, 200}, {1030, 67}};
        for (int[] shape : shapes) {
            int rowCount = shape[0], k = shape[1], steps = 3;
            LayerStats stats = new LayerStats("l", k, steps);
            Oracle oracle = new Oracle(k, steps);
            int call = 0;
            for (CfgHalf half : new CfgHalf[]{CfgHalf.BATCH_COND_FIRST, CfgHalf.BATCH_UNCOND_FIRST, CfgHalf.UNCOND, CfgHalf.NONE}) {
                for (int step = 0; step < steps; step++, call++) {
                    float[] x = new float[rowCount * k];
                    float scale = 1 + call;
                    for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * scale);
                    IntPredicate real = call % 2 == 0 ? null : r -> r % 3 != 1;
                    stats.record(Tensor.of(x, rowCount, k).data(), rowCount, step, half, real);
                    oracle.record(x, rowCount, step, half, real);
                }
            }
            String where = rowCount + "×" + k;
            for (int step = 0; step < steps; step++) {
                for (int h = 0; h < 2; h++) {
                    int slot = step * 2 + h;
                    assertEquals(oracle.rows[slot], stats.rows(step, h), where);
                    assertEquals(oracle.min[slot], stats.min(step, h), where);
                    assertEquals(oracle.max[slot], stats.max(step, h), where);
                    float[] oneHot = new float[k];
                    for (int c = 0; c < k; c++) { // scaled by a one-hot vector: the abs-max of channel c alone
                        oneHot[c] = 1;
                        assertEquals(oracle.absmax[slot * k + c], stats.scaledAbsMax(step, h, oneHot), where + ", channel " + c);
                        oneHot[c] = 0;
                    }
                }
            }
            float[] channel = new float[k];
            for (int slot = 0; slot < steps * 2; slot++) {
                for (int c = 0; c < k; c++) channel[c] = Math.max(channel[c], oracle.absmax[slot * k + c]);
            }
            assertArrayEquals(channel, stats.channelAbsMax(), where);
        }
    }

    @Test
    void aStepOutsideTheRunIsRefused() {
        LayerStats stats = new LayerStats("blocks.0.fc1", 4, 2);
        var e = assertThrows(IllegalStateException.class, () -> stats.record(Tensor.zeros(1, 4).data(), 1, 2, CfgHalf.NONE));
        assertTrue(e.getMessage().contains("blocks.0.fc1: step 2 outside the 2 steps"), e.getMessage());
    }
}
