package dev.viditq.quant;

import dev.viditq.quant.method.QuantMethods;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigException;
import dev.viditq.quant.method.QuantMethod;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gptq and low_rank keys: read, checked, and refused by planning until quantize applies them. */
class LowBitConfigTest {
    @Test
    void readsGptqAndLowRank() {
        QuantConfig c = ConfigTest.parse("""
                preset: viditq-w4a8
                weight: {granularity: group, group_size: 64}
                gptq: {damp: 0.02, act_order: true, block_size: 64}
                low_rank: {rank: 16}
                """);
        assertEquals(new QuantConfig.Gptq(0.02, true, 64), c.gptq());
        assertEquals(new QuantConfig.LowRank(16), c.lowRank());
        assertTrue(c.needsCalibration());
        QuantConfig d = ConfigTest.parse("preset: viditq-w4a8\ngptq: true\n");
        assertEquals(new QuantConfig.Gptq(0.01, false, 128), d.gptq());
        assertNull(d.lowRank());
        assertNull(ConfigTest.parse("preset: viditq-w4a8\ngptq: {enabled: false}\nlow_rank: {rank: 0}\n").gptq());
        assertNull(ConfigTest.parse("preset: viditq-w4a8\n").gptq());
    }

    @Test
    void refusesBadValuesNamingTheKey() {
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\ngptq: {damp: 1.5}\n").contains("'gptq.damp'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\ngptq: {block_size: 0}\n").contains("'gptq.block_size'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\ngptq: {dampening: 0.1}\n").contains("unknown key 'gptq.dampening'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlow_rank: {rank: -1}\n").contains("'low_rank.rank'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nweight: {granularity: tensor}\ngptq: true\n").contains("per tensor"));
    }

    @Test
    void planningRecordsTheMethodsPerLayerAndGptqNeedsHessians(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        QuantConfig lowRank = ConfigTest.parse("preset: quarot-w8a8\nlow_rank: {rank: 100000}\n");
        QuantConfig gptq = ConfigTest.parse("preset: viditq-w4a8\ngptq: {act_order: true}\n");
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            dev.viditq.quant.plan.QuantPlan plan = QuantMethods.of(lowRank.method()).plan(model, null, lowRank);
            for (dev.viditq.quant.plan.LayerPlan lp : plan.layers().values()) {
                assertEquals(Math.min(lp.in(), lp.out()), lp.lowRank(), lp.name() + ": a rank beyond the layer is cut to its smaller side");
                assertEquals(null, lp.gptq(), lp.name());
            }
            var statsOnly = GoldenModels.calibrate(model, GoldenModels.pixart(), 1, tmp.resolve("c.safetensors"));
            String m = assertThrows(IllegalArgumentException.class, () -> QuantMethods.of(gptq.method()).plan(model, statsOnly, gptq)).getMessage();
            assertTrue(m.contains("--hessians"), m);
        }
    }
}
