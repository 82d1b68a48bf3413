package dev.viditq.quant.plan;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-step precision of a layer's bit map, and the static-range lookup by timestep and CFG half. */
class LayerPlanTest {
    @Test
    void laterRulesWinInTheirRanges() {
        Precision w4 = new Precision(4, 8);
        List<BitOverride> rules = List.of(
                new BitOverride(8, null, false, null, null),                       // always W8
                new BitOverride(4, 6, false, new int[]{5, 10}, null),              // steps 5..9: W4A6
                new BitOverride(null, null, true, null, new double[]{900, 1000})); // t >= 900: float
        LayerPlan p = new LayerPlan("l", 64, 32, null, null, w4, rules, null);
        assertEquals(new Precision(8, 8), p.precisionAt(-1, Double.NaN));
        assertEquals(new Precision(8, 8), p.precisionAt(2, 800));
        assertEquals(new Precision(4, 6), p.precisionAt(5, 700));
        assertEquals(Precision.FLOAT, p.precisionAt(6, 950));
        assertEquals(Set.of(new Precision(8, 8), new Precision(4, 6), Precision.FLOAT), p.possiblePrecisions());
        assertEquals(Set.of(8, 4), p.weightBits());
        assertTrue(p.needsFloatWeight());
    }

    @Test
    void bitsAfterAFloatRuleComeFromTheBase() {
        LayerPlan p = new LayerPlan("l", 64, 32, null, null, new Precision(4, 8), List.of(
                new BitOverride(null, null, true, new int[]{0, 3}, null),
                new BitOverride(null, 6, false, new int[]{2, 4}, null)), null);
        assertEquals(Precision.FLOAT, p.precisionAt(1, 0));
        assertEquals(new Precision(4, 6), p.precisionAt(2, 0));
        assertEquals(new Precision(4, 6), p.precisionAt(3, 0));
        assertEquals(new Precision(4, 8), p.precisionAt(4, 0));
        assertFalse(p.possiblePrecisions().contains(new Precision(8, 8)));
    }

    @Test
    void staticRangesFollowTheNearestTimestepAndTheCfgHalf() {
        StaticRanges r = new StaticRanges(new double[]{999, 500, 1}, true, new float[]{10, 11, 20, 21, 30, 31});
        assertEquals(0, r.bucket(Double.NaN), "outside a sampling loop");
        int b = r.bucket(480);
        assertEquals(1, b);
        assertEquals(20, r.absmax(b, false));
        assertEquals(21, r.absmax(b, true));
        assertEquals(31, r.absmax(r.bucket(0), true));
        StaticRanges shared = new StaticRanges(new double[]{999, 1}, false, new float[]{5, 6});
        assertEquals(6, shared.absmax(shared.bucket(10), true), "one range for both halves without cfgSplit");
    }
}
