package dev.viditq.quant;

import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigException;
import dev.viditq.quant.config.QuantConfigReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading configs: this project's schema, ViDiT-Q's released layout, presets, and every refusal. */
class ConfigTest {
    @TempDir
    Path tmp;

    static QuantConfig parse(String yaml) {
        return QuantConfigReader.parse(yaml, "test.yaml", null);
    }

    static String refusal(String yaml) {
        return assertThrows(QuantConfigException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void everyPresetLoads() {
        for (String name : Presets.NAMES) {
            QuantConfig c = QuantConfigReader.preset(name);
            assertEquals("preset " + name, c.source());
            // svdquant-w4a8 is ViDiT-Q's pipeline with rotation off and the low-rank branch on
            String expectedMethod = name.startsWith("svdquant") ? "viditq" : name.substring(0, name.indexOf('-'));
            assertEquals(expectedMethod, c.method().id(), name + " is " + c.method());
        }
        assertEquals(32, QuantConfigReader.preset("svdquant-w4a8").lowRank().rank());
        assertEquals(6, QuantConfigReader.preset("viditq-w6a6").weight().bits());
        assertEquals(2, QuantConfigReader.preset("viditq-w4a8-mp").bitMap().size());
        // groups of 64 fit 4.5 stored bits per weight only with BF16 scales
        assertEquals(QuantConfig.ScaleType.BF16, QuantConfigReader.preset("viditq-gptq-w4a8-g64").weight().scaleType());
        assertEquals(QuantConfig.ScaleType.F32, QuantConfigReader.preset("viditq-gptq-w4a8-g128").weight().scaleType());
        // W8A8 with GPTQ differs from viditq-w8a8 only in GPTQ and its balancing strength: same bits, same kernels
        QuantConfig w8 = QuantConfigReader.preset("viditq-w8a8"), w8gptq = QuantConfigReader.preset("viditq-gptq-w8a8");
        assertEquals(w8.weight(), w8gptq.weight());
        assertEquals(w8.activation(), w8gptq.activation());
        assertNull(w8.gptq());
        assertTrue(w8gptq.gptq().actOrder());
        assertEquals(0.5, w8gptq.balancing().alpha());
    }

    @Test
    void readsTheNativeSchema() {
        QuantConfig c = parse("""
                method: viditq
                weight: {bits: 4, symmetric: true, granularity: group, group_size: 64}
                activation: {bits: 6}
                balancing: {alpha: 0.3, layers: ['blocks\\.\\d+\\.mlp\\.fc2']}
                rotation: {seed: 42, block: 128}
                keep_float: ['blocks\\.0\\..*']
                bit_map:
                  - {layers: '.*attn.*', weight_bits: 8, steps: [0, 5]}
                  - {layers: ['.*fc1', '.*fc2'], float: true, timesteps: [900, 1000]}
                """);
        assertEquals(QuantConfig.Method.VIDITQ, c.method());
        assertEquals(new QuantConfig.WeightSpec(4, true, QuantConfig.WeightGranularity.GROUP, 64), c.weight());
        assertEquals(6, c.activation().bits());
        assertTrue(c.activation().dynamic());
        assertEquals(0.3, c.balancing().alpha());
        assertEquals(42, c.rotation().seed());
        assertEquals(128, c.rotation().block());
        assertEquals(3, c.bitMap().size());
        assertTrue(c.bitMap().get(1).keepFloat());
    }

    /** Weight scales are F32 unless {@code weight.scale_dtype} says bf16; another type is refused with the known ones. */
    @Test
    void readsTheScaleDtype() {
        assertEquals(QuantConfig.ScaleType.F32, parse("method: viditq\nweight: {bits: 4}\n").weight().scaleType());
        QuantConfig c = parse("method: viditq\nweight: {bits: 4, granularity: group, group_size: 64, scale_dtype: bf16}\n");
        assertEquals(new QuantConfig.WeightSpec(4, false, QuantConfig.WeightGranularity.GROUP, 64, QuantConfig.ScaleType.BF16), c.weight());
        assertEquals(QuantConfig.ScaleType.BF16, parse("preset: viditq-w4a8\nweight: {scale_dtype: BF16}\n").weight().scaleType());
        String m = refusal("method: viditq\nweight: {bits: 4, scale_dtype: f16}\n");
        assertTrue(m.contains("'weight.scale_dtype' is 'f16'") && m.contains("known: f32, bf16"), m);
    }

    @Test
    void presetsCanBeOverridden() {
        QuantConfig c = parse("preset: viditq-w8a8\nbalancing: {alpha: 0.5}\nrotation: {seed: 9}\n");
        assertEquals(0.5, c.balancing().alpha());
        assertEquals(9, c.rotation().seed());
        assertEquals(8, c.weight().bits());
    }

    @Test
    void readsViditqReleasedLayout() throws IOException {
        Files.writeString(tmp.resolve("remain_fp.txt"), "x_embedder\nt_block\nfinal_layer\n");
        Path cfg = tmp.resolve("w4a8.yaml");
        Files.writeString(cfg, """
                part_fp_list: "./configs/quant/opensora/remain_fp.txt"
                model: {model_id: "opensora", model_type: 'opensora'}
                conditional: True
                cfg_split: True
                mixed_precision: [4,6,8]
                calib_data: {path: "calib", n_steps: 10, batch_size: 4, n_samples: 10}
                quant:
                    weight:
                        quantizer: {n_bits: 4, per_group: 'channel', scale_method: 'min_max', round_mode: 'nearest'}
                    activation:
                        quantizer:
                            n_bits: 8
                            per_group: 'token'
                            dynamic: True
                            scale_method: 'min_max'
                            round_mode: 'nearest_ste'
                            running_stat: False
                            sym: False
                            n_spatial_token: 1024
                            smooth_quant:
                                enable: True
                                channel_wise_scale_type: momentum_act_max
                                momentum: 0.95
                                alpha: [0.11, 0.11]
                                timerange: [[0, 500], [501, 1000]]
                    grad_checkpoint: False
                resume_with_w_quantized: {path: None}
                """);
        QuantConfig c = QuantConfigReader.read(cfg);
        assertEquals(QuantConfig.Method.VIDITQ, c.method());
        assertEquals(4, c.weight().bits());
        assertFalse(c.weight().symmetric());
        assertEquals(QuantConfig.ActivationGranularity.TOKEN, c.activation().granularity());
        assertEquals(0.11, c.balancing().alpha(), 1e-12);
        assertNotNull(c.rotation());
        assertEquals(3, c.keepFloat().size());
        assertTrue(c.keepFloat().get(1).matches("t_block.1"));
        assertFalse(c.keepFloat().get(1).matches("blocks.1.attn.qkv"));
        assertTrue(c.notes().stream().anyMatch(n -> n.contains("sym: false")), c.notes().toString());
    }

    @Test
    void referenceStaticConfigIsNaive() {
        QuantConfig c = parse("""
                quant:
                    weight: {quantizer: {n_bits: 8, channel_wise: True, per_group: "channel", channel_dim: 0}}
                    activation: {quantizer: {n_bits: 8, per_group: False, dynamic: False, sym: False}}
                """);
        assertEquals(QuantConfig.Method.NAIVE, c.method());
        assertFalse(c.activation().dynamic());
        assertEquals(QuantConfig.ActivationGranularity.TENSOR, c.activation().granularity());
        assertNull(c.rotation());
    }

    @Test
    void refusesBitsOutOfRange() {
        assertTrue(refusal("method: naive\nweight: {bits: 9}\n").contains("'weight.bits' is 9, outside 2..8"));
        assertTrue(refusal("method: viditq\nactivation: {bits: 1}\n").contains("'activation.bits' is 1"));
        assertTrue(refusal("quant: {weight: {quantizer: {n_bits: 16}}, activation: {quantizer: {n_bits: 8}}}\n")
                .contains("'quant.weight.quantizer.n_bits' is 16"));
        assertTrue(refusal("method: viditq\nbit_map: [{layers: '.*', weight_bits: 12}]\n").contains("'bit_map[0].weight_bits' is 12"));
    }

    @Test
    void refusesUnknownKeys() {
        String m = refusal("method: viditq\nweight: {bits: 8, simmetric: true}\n");
        assertTrue(m.contains("unknown key 'weight.simmetric'"), m);
        m = refusal("quant: {weight: {quantizer: {n_bits: 8, rounding: x}}, activation: {quantizer: {n_bits: 8}}}\n");
        assertTrue(m.contains("unknown key 'quant.weight.quantizer.rounding'"), m);
        assertTrue(refusal("method: viditq\nrotaton: {seed: 1}\n").contains("unknown key 'rotaton'"));
    }

    @Test
    void refusesWhatTheKernelsCannotRun() {
        assertTrue(refusal("method: quarot\nactivation: {granularity: tensor, dynamic: false}\n").contains("cannot be combined with rotation"));
        assertTrue(refusal("method: naive\nactivation: {granularity: token, dynamic: false}\n").contains("static per-token"));
        assertTrue(refusal("method: naive\nweight: {bits: 8, granularity: group, group_size: 64}\n").contains("at most 4 bits"));
        assertTrue(refusal("method: naive\nbalancing: {alpha: 0.5}\n").contains("takes no balancing"));
        assertTrue(refusal("method: smoothquant\nbalancing: {alpha: 1.5}\n").contains("outside [0, 1]"));
        assertTrue(refusal("method: viditq\nkeep_float: ['blocks[']\n").contains("not a valid regular expression"));
        assertTrue(refusal("method: fastest\n").contains("'method' is 'fastest'"));
        assertTrue(refusal("weight: {bits: 8}\n").contains("'method' is missing"));
        assertTrue(refusal("preset: viditq-w2a2\n").contains("unknown preset"));
        assertTrue(refusal("method: viditq\nbit_map: [{layers: '.*'}]\n").contains("changes nothing"));
        assertTrue(refusal("method: quarot\nrotation: {block: 18}\n").contains("'rotation.block' is 18"));
    }
}
