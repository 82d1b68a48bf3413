package dev.viditq.quant.mp;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A group at a precision inside its step range, float (or the operating point) around it; the rest untouched. */
class SensitivityPlansTest {
    private static final Precision W4A8 = new Precision(4, 8), W8A8 = new Precision(8, 8);

    private static QuantPlan full() {
        Map<String, LayerPlan> layers = new LinkedHashMap<>();
        layers.put("a", new LayerPlan("a", 16, 8, new float[16], null, W8A8, List.of(), null));
        layers.put("b", new LayerPlan("b", 8, 16, null, null, W8A8, List.of(), null));
        return new QuantPlan("viditq", "test", new QuantConfig.WeightSpec(8, false, QuantConfig.WeightGranularity.CHANNEL, 0),
                new QuantPlan.ActivationScheme(QuantConfig.ActivationGranularity.TOKEN, true), layers, List.of());
    }

    @Test
    void theGroupRunsItsPrecisionOnlyInItsRange() {
        QuantPlan full = full();
        QuantPlan isolated = new SensitivityPlans(full, 8, null).group("g", List.of("a"), W4A8, 2, 5);
        assertEquals(Set.of("a"), isolated.layers().keySet());
        LayerPlan a = isolated.layers().get("a");
        assertArrayEquals(full.layers().get("a").smooth(), a.smooth(), "the method's balancing is kept");
        for (int step = 0; step < 8; step++) {
            assertEquals(step >= 2 && step < 5 ? W4A8 : Precision.FLOAT, a.precisionAt(step, 500), "step " + step);
        }
        LayerPlan around = new SensitivityPlans(full, 8, W8A8).group("g", List.of("a"), W4A8, 2, 5).layers().get("a");
        assertEquals(W8A8, around.precisionAt(0, 900));
        assertEquals(W4A8, around.precisionAt(3, 500));
        assertEquals(Set.of(4, 8), around.weightBits());
        LayerPlan whole = new SensitivityPlans(full, 8, null).group("g", List.of("a"), W4A8, 0, 8).layers().get("a");
        assertEquals(Set.of(W4A8), whole.possiblePrecisions(), "the whole run: no float steps");
    }

    @Test
    void theOperatingPointPutsEveryLayerAtOnePrecision() {
        QuantPlan uniform = new SensitivityPlans(full(), 8, null).uniform(W4A8, "W4A8");
        assertEquals(Set.of("a", "b"), uniform.layers().keySet());
        for (LayerPlan lp : uniform.layers().values()) assertEquals(Set.of(W4A8), lp.possiblePrecisions(), lp.name());
        assertThrows(IllegalArgumentException.class, () -> new SensitivityPlans(full(), 8, null).group("g", List.of("c"), W4A8, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> new SensitivityPlans(full(), 8, null).group("g", List.of("a"), W4A8, 3, 9));
    }
}
