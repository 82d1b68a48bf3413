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
    void layerMethodsAreReadRuleByRuleAndBadOnesRefusedNamingTheKey() {
        QuantConfig c = ConfigTest.parse("""
                preset: viditq-gptq-w4a8
                layer_methods:
                  - {layers: ['blocks\\.0\\..*', 'blocks\\.1\\..*'], group_size: 64, gptq: true}
                  - {layers: '.*mlp.*', granularity: channel, gptq: false, low_rank: 8}
                """);
        assertEquals(3, c.layerMethods().size(), "one rule per regex");
        QuantConfig.MethodRule first = c.layerMethods().get(0);
        assertEquals(64, first.groupSize());
        assertEquals(c.gptq(), first.gptq(), "gptq: true in a rule means the config's own settings");
        assertNull(first.lowRank());
        QuantConfig.MethodRule mlp = c.layerMethods().get(2);
        assertEquals(0, mlp.groupSize());
        assertTrue(mlp.gptqOff());
        assertEquals(8, mlp.lowRank());
        assertTrue(ConfigTest.parse("preset: viditq-w4a8\nlayer_methods: [{layers: 'x', gptq: true}]\n").usesGptq());
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{layers: 'x'}]\n").contains("changes nothing"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{group_size: 64}]\n").contains("'layer_methods[0].layers'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{layers: 'x', granularity: tensor}]\n")
                .contains("'layer_methods[0].granularity'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{layers: 'x', granularity: channel, group_size: 64}]\n")
                .contains("goes with granularity group"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{layers: 'x', group_size: 60}]\n").contains("multiple of 8"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{layers: 'x', low_rank: -2}]\n").contains("'layer_methods[0].low_rank'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: [{layers: 'x', rank: 2}]\n").contains("unknown key 'layer_methods[0].rank'"));
        assertTrue(ConfigTest.refusal("preset: viditq-w4a8\nlayer_methods: {layers: 'x'}\n").contains("should be a list"));
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
            QuantConfig ruleGptq = ConfigTest.parse("preset: viditq-w4a8\nlayer_methods: [{layers: '.*mlp.*', gptq: true}]\n");
            String r = assertThrows(IllegalArgumentException.class, () -> QuantMethods.of(ruleGptq.method()).plan(model, statsOnly, ruleGptq)).getMessage();
            assertTrue(r.contains("--hessians"), "a layer_methods rule with gptq needs Hessians too: " + r);
            QuantConfig nowhere = ConfigTest.parse("preset: viditq-w4a8\nlayer_methods: [{layers: 'nope\\..*', low_rank: 2}]\n");
            String n = assertThrows(QuantConfigException.class, () -> QuantMethods.of(nowhere.method()).plan(model, statsOnly, nowhere)).getMessage();
            assertTrue(n.contains("matches no Linear"), n);
            QuantConfig grouped8 = ConfigTest.parse("preset: viditq-w4a8\nlayer_methods: [{layers: '.*mlp.*', group_size: 32}]\n"
                    + "bit_map: [{layers: '.*mlp.*', weight_bits: 8}]\n");
            String g = assertThrows(QuantConfigException.class, () -> QuantMethods.of(grouped8.method()).plan(model, statsOnly, grouped8)).getMessage();
            assertTrue(g.contains("per-group scales exist only for weights of at most 4 bits"), g);
        }
    }
}
