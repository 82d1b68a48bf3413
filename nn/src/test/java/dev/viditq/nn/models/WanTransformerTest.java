package dev.viditq.nn.models;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.RandomCheckpoints;
import dev.viditq.nn.layers.CountingExecutor;
import dev.viditq.nn.models.golden.WanTransformerGoldenCase;
import dev.viditq.nn.models.wan.WanConfig;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Wan transformer on the golden folders, and at other sizes with random weights (other head counts and widths,
 * so other RoPE splits, non-square latents, odd frame counts, batches of 3, no cross-attention norm): shapes and
 * invariants that hold whatever the weights.
 */
class WanTransformerTest {
    private static final GoldenFolder WAN = GoldenFolder.named("golden_wan");

    @Test
    void goldenT2vMatches() throws Exception {
        check(new WanTransformerGoldenCase(), WAN.resolve("wan_transformer"));
    }

    @Test
    void goldenI2vMatches() throws Exception {
        check(new WanTransformerGoldenCase.I2v(), WAN.resolve("wan_transformer_i2v"));
    }

    private static void check(GoldenCase handler, Path dir) throws Exception {
        for (GoldenCase.Comparison c : handler.run(dir)) assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
    }

    @Test
    void checkpointShapesAreThoseOfTheOfficialLayout() throws Exception {
        for (String name : List.of("wan_transformer", "wan_transformer_i2v")) {
            Path dir = WAN.resolve(name);
            Map<String, long[]> expected = WanTransformer.checkpointShapes(WanConfig.diffusers(ModelConfig.read(dir.resolve("config.json"))));
            try (Safetensors f = Safetensors.open(dir.resolve("model.safetensors"))) {
                assertEquals(f.names(), expected.keySet(), name);
                for (String k : f.names()) assertArrayEquals(f.get(k).shape(), expected.get(k), name + " " + k);
            }
        }
    }

    static String config(int heads, int headDim, int in, int out, int textDim, int freqDim, int ffn, int layers,
                         boolean crossAttnNorm, int imageDim) {
        String image = imageDim > 0 ? "\"image_dim\": " + imageDim + ", \"added_kv_proj_dim\": " + heads * headDim
                : "\"image_dim\": null, \"added_kv_proj_dim\": null";
        return "{\"_class_name\": \"WanTransformer3DModel\", \"num_attention_heads\": " + heads + ", \"attention_head_dim\": " + headDim
                + ", \"in_channels\": " + in + ", \"out_channels\": " + out + ", \"text_dim\": " + textDim + ", \"freq_dim\": " + freqDim
                + ", \"ffn_dim\": " + ffn + ", \"num_layers\": " + layers + ", \"cross_attn_norm\": " + crossAttnNorm
                + ", \"eps\": 1e-05, \"patch_size\": [1, 2, 2], \"qk_norm\": \"rms_norm_across_heads\", \"rope_max_seq_len\": 64, "
                + image + ", \"pos_embed_seq_len\": null}";
    }

    private static Path randomModel(Path dir, String configJson, long seed) throws Exception {
        ModelConfig cfg = new ModelConfig(dir.resolve("config.json"), new com.fasterxml.jackson.databind.ObjectMapper().readTree(configJson));
        return RandomCheckpoints.write(dir, configJson, WanTransformer.checkpointShapes(WanConfig.diffusers(cfg)), seed, DType.F32);
    }

    @Test
    void otherSizesKeepShapesAndSamplesApart(@TempDir Path tmp) throws Exception {
        // 3 heads of 20 (RoPE 8/6/6), no cross-attention norm, 3 blocks
        Path dir = randomModel(tmp, config(3, 20, 5, 6, 12, 14, 44, 3, false, 0), 21);
        SplittableRandom r = new SplittableRandom(5);
        Tensor x = RandomCheckpoints.uniform(r, 1f, 3, 5, 3, 4, 6);
        Tensor text = RandomCheckpoints.uniform(r, 1f, 3, 5, 12);
        Tensor t = Tensor.of(new float[]{999, 500, 3}, 3);
        try (WanTransformer model = WanTransformer.load(dir)) {
            assertEquals(60, model.info().hidden());
            Tensor out = model.forward(x, t, text, null);
            assertArrayEquals(new long[]{3, 6, 3, 4, 6}, out.shape());
            // each sample alone gives its rows of the batch
            for (int b = 0; b < 3; b++) {
                Tensor one = model.forward(sample(x, b), Tensor.of(new float[]{t.getFloat(b)}, 1), sample(text, b), null);
                assertTrue(GoldenCase.relErr(one.toFloatArray(), sample(out, b).toFloatArray()) < 1e-5, "sample " + b);
            }
            // the timestep matters, and so does the caption
            Tensor other = model.forward(x, Tensor.of(new float[]{10, 500, 3}, 3), text, null);
            assertTrue(GoldenCase.relErr(sample(other, 0).toFloatArray(), sample(out, 0).toFloatArray()) > 1e-3);
            assertArrayEquals(sample(other, 1).toFloatArray(), sample(out, 1).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void aCaptionMaskZeroesThePaddingRowsAsThePipelineDoes(@TempDir Path tmp) throws Exception {
        Path dir = randomModel(tmp, config(2, 12, 4, 4, 8, 16, 24, 2, true, 0), 3);
        SplittableRandom r = new SplittableRandom(8);
        Tensor x = RandomCheckpoints.uniform(r, 1f, 2, 4, 2, 2, 4);
        Tensor text = RandomCheckpoints.uniform(r, 1f, 2, 6, 8);
        float[] maskValues = {1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0};
        Tensor zeroed = text.copy();
        for (int i = 0; i < maskValues.length; i++) {
            if (maskValues[i] == 0) for (int d = 0; d < 8; d++) zeroed.setFloat(i * 8L + d, 0f);
        }
        Tensor t = Tensor.of(new float[]{700}, 1);
        try (WanTransformer model = WanTransformer.load(dir)) {
            Tensor masked = model.forward(x, t, Conditioning.caption(text, Tensor.of(maskValues, 2, 6)));
            Tensor explicit = model.forward(x, t, zeroed, null);
            assertArrayEquals(explicit.toFloatArray(), masked.toFloatArray(), 0f);
            // zero rows still take part: dropping them changes the result
            Tensor shorter = model.forward(sample(x, 0), t, rows(sample(zeroed, 0), 3), null);
            assertTrue(GoldenCase.relErr(shorter.toFloatArray(), sample(explicit, 0).toFloatArray()) > 1e-4);
        }
    }

    @Test
    void theOriginalLayoutLoadsIntoTheSameModel(@TempDir Path tmp) throws Exception {
        Path diffusers = randomModel(tmp.resolve("diffusers"), config(2, 12, 4, 4, 8, 16, 24, 2, true, 0), 13);
        Path original = tmp.resolve("original");
        Files.createDirectories(original);
        Files.writeString(original.resolve("config.json"), "{\"_class_name\": \"WanModel\", \"model_type\": \"t2v\", \"dim\": 24, "
                + "\"num_heads\": 2, \"in_dim\": 4, \"out_dim\": 4, \"text_dim\": 8, \"freq_dim\": 16, \"ffn_dim\": 24, "
                + "\"num_layers\": 2, \"eps\": 1e-05, \"text_len\": 512, \"patch_size\": [1, 2, 2]}");
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        try (Safetensors f = Safetensors.open(diffusers.resolve("model.safetensors"))) {
            for (String k : f.names()) renamed.put(originalName(k), f.get(k).copy());
        }
        SafetensorsWriter.write(original.resolve("diffusion_pytorch_model.safetensors"), renamed);
        SplittableRandom r = new SplittableRandom(2);
        Tensor x = RandomCheckpoints.uniform(r, 1f, 1, 4, 3, 4, 2), text = RandomCheckpoints.uniform(r, 1f, 1, 4, 8);
        Tensor t = Tensor.of(new float[]{321}, 1);
        try (WanTransformer a = WanTransformer.load(diffusers); WanTransformer b = WanTransformer.load(original)) {
            assertEquals(ModelFamily.Layout.ORIGINAL, b.info().family().layout());
            assertArrayEquals(a.forward(x, t, text, null).toFloatArray(), b.forward(x, t, text, null).toFloatArray(), 0f);
            assertEquals(a.linears().keySet(), b.linears().keySet(), "quantization addresses the diffusers names in both layouts");
        }
    }

    /** The published original names (Wan-AI/Wan2.1-T2V-*), written out independently of the loader's table. */
    private static String originalName(String k) {
        String[][] top = {{"condition_embedder.time_embedder.linear_1", "time_embedding.0"},
                {"condition_embedder.time_embedder.linear_2", "time_embedding.2"}, {"condition_embedder.time_proj", "time_projection.1"},
                {"condition_embedder.text_embedder.linear_1", "text_embedding.0"}, {"condition_embedder.text_embedder.linear_2", "text_embedding.2"},
                {"scale_shift_table", "head.modulation"}, {"proj_out", "head.head"}};
        for (String[] m : top) if (k.startsWith(m[0])) return m[1] + k.substring(m[0].length());
        return k.replace(".attn1.to_out.0", ".self_attn.o").replace(".attn1.to_", ".self_attn.").replace(".attn1.", ".self_attn.")
                .replace(".attn2.to_out.0", ".cross_attn.o").replace(".attn2.to_", ".cross_attn.").replace(".attn2.", ".cross_attn.")
                .replace(".norm2.", ".norm3.").replace(".ffn.net.0.proj", ".ffn.0").replace(".ffn.net.2", ".ffn.2")
                .replace(".scale_shift_table", ".modulation");
    }

    @Test
    void theImageBranchAddsToTheCaptionAttention(@TempDir Path tmp) throws Exception {
        // I2V weights whose image values are zero: the image branch contributes nothing, so the model is its T2V part
        Path i2v = randomModel(tmp.resolve("i2v"), config(2, 8, 6, 4, 10, 8, 20, 2, true, 7), 17);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (Safetensors f = Safetensors.open(i2v.resolve("model.safetensors"))) {
            for (String k : f.names()) weights.put(k, f.get(k).copy());
        }
        for (var e : weights.entrySet()) {
            if (e.getKey().contains("add_v_proj")) for (long i = 0; i < e.getValue().numel(); i++) e.getValue().setFloat(i, 0f);
        }
        SafetensorsWriter.write(i2v.resolve("model.safetensors"), weights);
        Path t2v = tmp.resolve("t2v");
        Files.createDirectories(t2v);
        Files.writeString(t2v.resolve("config.json"), config(2, 8, 6, 4, 10, 8, 20, 2, true, 0));
        Map<String, Tensor> t2vWeights = new LinkedHashMap<>(weights);
        t2vWeights.keySet().removeIf(k -> k.contains("image_embedder") || k.contains("add_") || k.contains("norm_added_k"));
        SafetensorsWriter.write(t2v.resolve("model.safetensors"), t2vWeights);

        SplittableRandom r = new SplittableRandom(4);
        Tensor x = RandomCheckpoints.uniform(r, 1f, 2, 6, 2, 2, 4);
        Tensor text = RandomCheckpoints.uniform(r, 1f, 2, 512, 10), image = RandomCheckpoints.uniform(r, 1f, 2, 3, 7);
        Tensor t = Tensor.of(new float[]{800, 100}, 2);
        try (WanTransformer a = WanTransformer.load(i2v); WanTransformer b = WanTransformer.load(t2v)) {
            assertTrue(a.config().imageToVideo());
            Tensor withImage = a.forward(x, t, text, image);
            assertArrayEquals(new long[]{2, 4, 2, 2, 4}, withImage.shape());
            assertTrue(GoldenCase.relErr(withImage.toFloatArray(), b.forward(x, t, text, null).toFloatArray()) < 1e-5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.forward(x, t, rows(text, 100), image));
            assertTrue(e.getMessage().contains("512"), e.getMessage());
        }
    }

    @Test
    void keptContextKeysAndValuesGiveTheSameBitsAsProjectingThemEveryCall(@TempDir Path tmp) throws Exception {
        Path dir = randomModel(tmp, config(2, 8, 6, 4, 10, 8, 20, 2, true, 7), 19);   // I2V: caption and image branches
        SplittableRandom r = new SplittableRandom(6);
        Tensor text = RandomCheckpoints.uniform(r, 1f, 2, 512, 10), image = RandomCheckpoints.uniform(r, 1f, 2, 3, 7);
        Tensor[] xs = {RandomCheckpoints.uniform(r, 1f, 2, 6, 2, 2, 4), RandomCheckpoints.uniform(r, 1f, 2, 6, 2, 2, 4)};
        try (WanTransformer model = WanTransformer.load(dir)) {
            CountingExecutor toK = CountingExecutor.install(model.linears().get("blocks.1.attn2.to_k"));
            CountingExecutor addK = CountingExecutor.install(model.linears().get("blocks.1.attn2.add_k_proj"));
            float[][] kept = steps(model, xs, text, image);
            assertEquals(1, toK.calls(), "the caption's keys projected once");
            assertEquals(1, addK.calls(), "the image's keys projected once");
            float[][] every;
            System.setProperty("viditq.captionMemo", "false");
            try {
                every = steps(model, xs, text, image);
            } finally {
                System.clearProperty("viditq.captionMemo");
            }
            assertEquals(1 + 3, toK.calls());
            for (int i = 0; i < kept.length; i++) assertArrayEquals(every[i], kept[i], 0f, "call " + i);

            Tensor other = text.copy();                 // another caption, same tensor shape: projected again
            other.setFloat(17, other.getFloat(17) + 1f);
            float[] changed = model.forward(xs[0], Tensor.of(new float[]{800}, 1), other, image).toFloatArray();
            assertEquals(1 + 3 + 1, toK.calls());
            assertTrue(GoldenCase.relErr(changed, kept[0]) > 1e-6);
        }
    }

    /** Three forward passes at timesteps 800, 500, 200 (the latents alternating) with one caption and image. */
    private static float[][] steps(WanTransformer model, Tensor[] xs, Tensor text, Tensor image) {
        float[][] out = new float[3][];
        for (int i = 0; i < 3; i++) {
            out[i] = model.forward(xs[i % 2], Tensor.of(new float[]{800 - 300 * i}, 1), text, image).toFloatArray();
        }
        return out;
    }

    /** Sample b of [B, ...] as [1, ...]. */
    private static Tensor sample(Tensor t, int b) {
        long[] shape = t.shape();
        long per = t.numel() / shape[0];
        shape[0] = 1;
        return Tensor.of(Arrays.copyOfRange(t.toFloatArray(), (int) (b * per), (int) ((b + 1) * per)), shape);
    }

    /** The first n tokens of [B, L, C]. */
    private static Tensor rows(Tensor t, int n) {
        int batch = t.size(0), length = t.size(1), width = t.size(2);
        float[] v = t.toFloatArray(), out = new float[batch * n * width];
        for (int b = 0; b < batch; b++) System.arraycopy(v, b * length * width, out, b * n * width, n * width);
        return Tensor.of(out, batch, n, width);
    }
}
