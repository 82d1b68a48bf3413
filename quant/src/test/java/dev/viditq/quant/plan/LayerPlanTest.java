package dev.viditq.quant.plan;

import dev.viditq.nn.pipeline.StepContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-step precision of a layer's bit map, and the static-range lookup by timestep and CFG half. */
class LayerPlanTest {
    static StepContext at(int step, double t) {
        return new StepContext(step, 20, t, StepContext.CfgHalf.NONE);
    }

    @Test
    void laterRulesWinInTheirRanges() {
        Precision w4 = new Precision(4, 8);
        List<BitOverride> rules = List.of(
                new BitOverride(8, null, false, null, null),                       // always W8
                new BitOverride(4, 6, false, new int[]{5, 10}, null),              // steps 5..9: W4A6
                new BitOverride(null, null, true, null, new double[]{900, 1000})); // t >= 900: float
        LayerPlan p = new LayerPlan("l", 64, 32, null, null, w4, rules, null);
        assertEquals(new Precision(8, 8), p.precisionAt(StepContext.NONE));
        assertEquals(new Precision(8, 8), p.precisionAt(at(2, 800)));
        assertEquals(new Precision(4, 6), p.precisionAt(at(5, 700)));
        assertEquals(Precision.FLOAT, p.precisionAt(at(6, 950)));
        assertEquals(Set.of(new Precision(8, 8), new Precision(4, 6), Precision.FLOAT), p.possiblePrecisions());
        assertEquals(Set.of(8, 4), p.weightBits());
        assertTrue(p.needsFloatWeight());
    }

    @Test
    void bitsAfterAFloatRuleComeFromTheBase() {
        LayerPlan p = new LayerPlan("l", 64, 32, null, null, new Precision(4, 8), List.of(
                new BitOverride(null, null, true, new int[]{0, 3}, null),
                new BitOverride(null, 6, false, new int[]{2, 4}, null)), null);
        assertEquals(Precision.FLOAT, p.precisionAt(at(1, 0)));
        assertEquals(new Precision(4, 6), p.precisionAt(at(2, 0)));
        assertEquals(new Precision(4, 6), p.precisionAt(at(3, 0)));
        assertEquals(new Precision(4, 8), p.precisionAt(at(4, 0)));
        assertFalse(p.possiblePrecisions().contains(new Precision(8, 8)));
    }

    @Test
    void staticRangesFollowTheNearestTimestepAndTheCfgHalf() {
        StaticRanges r = new StaticRanges(new double[]{999, 500, 1}, true, new float[]{10, 11, 20, 21, 30, 31});
        assertEquals(0, r.bucket(StepContext.NONE));
        int b = r.bucket(at(7, 480));
        assertEquals(1, b);
        assertEquals(20, r.absmax(b, StepContext.CfgHalf.BATCH_COND_FIRST, 0, 8));
        assertEquals(21, r.absmax(b, StepContext.CfgHalf.BATCH_COND_FIRST, 4, 8));
        assertEquals(20, r.absmax(b, StepContext.CfgHalf.BATCH_UNCOND_FIRST, 4, 8));
        assertEquals(31, r.absmax(r.bucket(at(19, 0)), StepContext.CfgHalf.UNCOND, 0, 1));
    }
}
