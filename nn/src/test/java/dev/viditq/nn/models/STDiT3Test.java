package dev.viditq.nn.models;

import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static dev.viditq.nn.models.DenoiserTest.assertClose;
import static dev.viditq.nn.models.DenoiserTest.random;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Open-Sora 1.2 STDiT3 beyond its golden case: loading a checkpoint with the key layout of the official
 * {@code stdit3.py} (written out here independently of the model code) and its saved config, and, on the golden
 * weights, inputs of other shapes (batch 3, non-square latents, 5 frames, 4-token captions) with the properties the
 * official forward has.
 */
class STDiT3Test {
    private static final GoldenFolder NEXT = GoldenFolder.named("golden_next");
    private static final int H = 48, HEADS = 4, HD = H / HEADS, DEPTH = 2, C = 4, P = 2, DT = 24, LT = 5;

    @TempDir
    Path tmp;

    /** The state_dict of STDiT3(depth=2, hidden_size=48, num_heads=4, caption_channels=24, model_max_length=5). */
    static Map<String, Tensor> officialKeys(Random rnd) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("x_embedder.proj.weight", random(rnd, H, C, 1, P, P));
        w.put("x_embedder.proj.bias", random(rnd, H));
        for (String e : new String[]{"t_embedder", "fps_embedder"}) {
            w.put(e + ".mlp.0.weight", random(rnd, H, 256));
            w.put(e + ".mlp.0.bias", random(rnd, H));
            w.put(e + ".mlp.2.weight", random(rnd, H, H));
            w.put(e + ".mlp.2.bias", random(rnd, H));
        }
        w.put("t_block.1.weight", scaled(random(rnd, 6 * H, H), 0.1f));
        w.put("t_block.1.bias", random(rnd, 6 * H));
        w.put("y_embedder.y_proj.fc1.weight", random(rnd, H, DT));
        w.put("y_embedder.y_proj.fc1.bias", random(rnd, H));
        w.put("y_embedder.y_proj.fc2.weight", random(rnd, H, H));
        w.put("y_embedder.y_proj.fc2.bias", random(rnd, H));
        w.put("y_embedder.y_embedding", random(rnd, LT, DT));
        float[] freqs = new float[HD / 2];
        for (int i = 0; i < freqs.length; i++) freqs[i] = (float) (1 / Math.pow(10000, 2.0 * i / HD));
        w.put("rope.freqs", Tensor.of(freqs, HD / 2));
        for (String kind : new String[]{"spatial_blocks", "temporal_blocks"}) {
            for (int i = 0; i < DEPTH; i++) {
                String b = kind + "." + i + ".";
                w.put(b + "scale_shift_table", scaled(random(rnd, 6, H), 0.1f));
                w.put(b + "attn.qkv.weight", scaled(random(rnd, 3 * H, H), 0.2f));
                w.put(b + "attn.qkv.bias", random(rnd, 3 * H));
                w.put(b + "attn.q_norm.weight", random(rnd, HD));
                w.put(b + "attn.k_norm.weight", random(rnd, HD));
                w.put(b + "attn.proj.weight", scaled(random(rnd, H, H), 0.1f));
                w.put(b + "attn.proj.bias", random(rnd, H));
                w.put(b + "cross_attn.q_linear.weight", scaled(random(rnd, H, H), 0.2f));
                w.put(b + "cross_attn.q_linear.bias", random(rnd, H));
                w.put(b + "cross_attn.kv_linear.weight", scaled(random(rnd, 2 * H, H), 0.2f));
                w.put(b + "cross_attn.kv_linear.bias", random(rnd, 2 * H));
                w.put(b + "cross_attn.proj.weight", scaled(random(rnd, H, H), 0.1f));
                w.put(b + "cross_attn.proj.bias", random(rnd, H));
                w.put(b + "mlp.fc1.weight", scaled(random(rnd, 4 * H, H), 0.1f));
                w.put(b + "mlp.fc1.bias", random(rnd, 4 * H));
                w.put(b + "mlp.fc2.weight", scaled(random(rnd, H, 4 * H), 0.05f));
                w.put(b + "mlp.fc2.bias", random(rnd, H));
            }
        }
        w.put("final_layer.scale_shift_table", random(rnd, 2, H));
        w.put("final_layer.linear.weight", scaled(random(rnd, P * P * 2 * C, H), 0.1f));
        w.put("final_layer.linear.bias", random(rnd, P * P * 2 * C));
        return w;
    }

    private static Tensor scaled(Tensor t, float s) {
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, t.getFloat(i) * s);
        return t;
    }

    /** The config as Open-Sora 1.2's PretrainedConfig saves it (sizes dynamic). */
    static final String CONFIG = """
            {"architectures": ["STDiT3"], "model_type": "STDiT3", "input_size": [null, null, null],
             "input_sq_size": 512, "in_channels": 4, "patch_size": [1, 2, 2], "hidden_size": 48, "depth": 2,
             "num_heads": 4, "mlp_ratio": 4.0, "class_dropout_prob": 0.1, "pred_sigma": true, "drop_path": 0.0,
             "caption_channels": 24, "model_max_length": 5, "qk_norm": true, "enable_flash_attn": false,
             "enable_layernorm_kernel": false, "enable_sequence_parallelism": false, "only_train_temporal": false,
             "freeze_y_embedder": true, "skip_y_embedder": false, "torch_dtype": "float32", "transformers_version": "4.36.2"}""";

    private Path write(Map<String, Tensor> weights) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("stdit3"));
        Files.writeString(dir.resolve("config.json"), CONFIG);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights);
        return dir;
    }

    private static Conditioning conditioning(Random rnd, int batch) {
        float[] m = new float[batch * LT];
        for (int b = 0; b < batch; b++) for (int j = 0; j < LT; j++) m[b * LT + j] = j <= b + 1 ? 1 : 0;
        float[] hw = new float[2 * batch], fps = new float[batch];
        for (int b = 0; b < batch; b++) {
            hw[2 * b] = 240;
            hw[2 * b + 1] = 426;
            fps[b] = 24;
        }
        return Conditioning.caption(random(rnd, batch, LT, DT), Tensor.of(m, batch, LT))
                .withVideoConditions(Tensor.of(hw, batch, 2), Tensor.of(fps, batch));
    }

    @Test
    void loadsTheOfficialLayoutAndRunsOnVideo() throws IOException {
        Random rnd = new Random(42);
        Map<String, Tensor> weights = officialKeys(rnd);
        weights.replaceAll((k, t) -> k.endsWith(".weight") && t.rank() == 2 ? t.to(DType.BF16) : t); // linears stay BF16
        try (Denoiser model = ModelLoader.load(write(weights))) {
            assertEquals(ModelFamily.STDIT3, model.info().family());
            assertTrue(model.info().family().videoConditions());
            assertEquals(2 + 2 + 1 + 2 + DEPTH * 2 * 7 + 1, model.linears().size()); // embedders, 7 per block, final
            assertTrue(model.linears().containsKey("temporal_blocks.1.cross_attn.kv_linear"));
            assertEquals(LT, model.nullCaption().orElseThrow().dim(0));

            int batch = 3, frames = 3;
            Tensor x = random(rnd, batch, C, frames, 3 * P, 5 * P);
            Tensor t = Tensor.of(new float[]{10, 500, 990}, batch);
            Conditioning cond = conditioning(rnd, batch);
            Tensor out = model.forward(x, t, cond);
            assertArrayEquals(new long[]{batch, 2 * C, frames, 3 * P, 5 * P}, out.shape());
            for (float v : out.toFloatArray()) assertTrue(Float.isFinite(v));
            for (int b = 0; b < batch; b++) {
                Conditioning one = new Conditioning(null, cond.caption().sliceRows(b, b + 1), cond.captionMask().sliceRows(b, b + 1),
                        cond.imageHw().sliceRows(b, b + 1), null, cond.fps().sliceRows(b, b + 1));
                assertClose(model.forward(x.sliceRows(b, b + 1), t.sliceRows(b, b + 1), one), out.sliceRows(b, b + 1), 1e-5);
            }
            // the temporal blocks see the frame order (RoPE): reversing the frames changes the output
            Tensor reversed = Tensor.zeros(x.shape());
            long plane = (long) 3 * P * 5 * P;
            for (int b = 0; b < batch; b++) for (int c = 0; c < C; c++) for (int f = 0; f < frames; f++) {
                long src = ((long) (b * C + c) * frames + f) * plane, dst = ((long) (b * C + c) * frames + (frames - 1 - f)) * plane;
                reversed.data().asSlice(dst * 4, plane * 4).copyFrom(x.data().asSlice(src * 4, plane * 4));
            }
            Tensor outReversed = model.forward(reversed, t, cond);
            double diff = 0;
            for (int b = 0; b < batch; b++) for (int c = 0; c < 2 * C; c++) for (int f = 0; f < frames; f++) for (long i = 0; i < plane; i++) {
                float a = out.getFloat(((long) (b * 2 * C + c) * frames + f) * plane + i);
                float r = outReversed.getFloat(((long) (b * 2 * C + c) * frames + (frames - 1 - f)) * plane + i);
                diff = Math.max(diff, Math.abs(a - r));
            }
            assertTrue(diff > 1e-4, "output is equivariant to frame reversal: RoPE not applied? " + diff);
        }
    }

    @Test
    void needsTheVideoSizeAndFps() throws IOException {
        Random rnd = new Random(3);
        try (Denoiser model = ModelLoader.load(write(officialKeys(rnd)))) {
            Tensor x = random(rnd, 1, C, 2, 2 * P, 2 * P);
            Conditioning noFps = Conditioning.caption(random(rnd, 1, LT, DT), null)
                    .withVideoConditions(Tensor.of(new float[]{240, 426}, 1, 2), null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(x, Tensor.of(new float[]{3}, 1), noFps));
            assertTrue(e.getMessage().contains("fps"), e.getMessage());
        }
    }

    @Test
    void aConfigThatSkipsTheCaptionEmbedderIsRefused() throws IOException {
        Path dir = write(officialKeys(new Random(5)));
        Files.writeString(dir.resolve("config.json"), CONFIG.replace("\"skip_y_embedder\": false", "\"skip_y_embedder\": true"));
        RuntimeException e = assertThrows(RuntimeException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("skip_y_embedder"), e.getMessage());
    }

    @Test
    void qkNormWeightsAreRequiredWhenConfigured() throws IOException {
        Map<String, Tensor> weights = officialKeys(new Random(4));
        weights.remove("temporal_blocks.1.attn.k_norm.weight");
        Path dir = write(weights);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("missing key 'temporal_blocks.1.attn.k_norm.weight'"), e.getMessage());
    }

    private static STDiT3 golden() {
        return (STDiT3) ModelLoader.load(NEXT.resolve("stdit3"));
    }

    /** Batch {@code batch}, 5 frames of 3p × 5p latents, 4-token captions with row b keeping b + 1 tokens (at most 4). */
    private static NamedInputs.Call otherShapes(ModelInfo info, int batch, Random rnd) {
        int p = info.patchSize(), tokens = 4;
        float[] m = new float[batch * tokens], hw = new float[2 * batch], fps = new float[batch], t = new float[batch];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < tokens; j++) m[b * tokens + j] = j <= b ? 1 : 0;
            hw[2 * b] = 3 * p * 8;
            hw[2 * b + 1] = 5 * p * 8;
            fps[b] = 8 + 8 * b;
            t[b] = 100 + 400 * b;
        }
        Conditioning cond = Conditioning.caption(random(rnd, batch, 1, tokens, info.captionChannels()), Tensor.of(m, batch, tokens))
                .withVideoConditions(Tensor.of(hw, batch, 2), Tensor.of(fps, batch));
        return new NamedInputs.Call(random(rnd, batch, info.inChannels(), 5, 3L * p, 5L * p), Tensor.of(t, batch), cond);
    }

    private static Conditioning row(Conditioning c, int b) {
        return new Conditioning(null, c.caption().sliceRows(b, b + 1), c.captionMask().sliceRows(b, b + 1),
                c.imageHw().sliceRows(b, b + 1), null, c.fps().sliceRows(b, b + 1));
    }

    private static Tensor frameMask(int batch, int frames, int... deadFrameOfSample) {
        float[] m = new float[batch * frames];
        java.util.Arrays.fill(m, 1);
        for (int b = 0; b < batch; b++) if (deadFrameOfSample[b] >= 0) m[b * frames + deadFrameOfSample[b]] = 0;
        return Tensor.of(m, batch, frames);
    }

    @Test
    void goldenWeightsOnOtherShapesComputeEachSampleAsAlone() {
        try (STDiT3 model = golden()) {
            NamedInputs.Call call = otherShapes(model.info(), 3, new Random(21));
            Tensor xMask = frameMask(3, 5, 0, -1, 4);
            Tensor out = model.forward(call.x(), call.timesteps(), call.cond());
            Tensor masked = model.forward(call.x(), call.timesteps(), call.cond(), xMask);
            long[] expected = call.x().shape();
            expected[1] = model.info().outChannels();
            assertArrayEquals(expected, out.shape());
            for (int b = 0; b < 3; b++) {
                Tensor x = call.x().sliceRows(b, b + 1), t = call.timesteps().sliceRows(b, b + 1);
                assertClose(model.forward(x, t, row(call.cond(), b)), out.sliceRows(b, b + 1), 1e-5);
                assertClose(model.forward(x, t, row(call.cond(), b), xMask.sliceRows(b, b + 1)), masked.sliceRows(b, b + 1), 1e-5);
            }
            // sample 1 has no dead frame: its masked forward is its plain one; the others differ
            assertClose(out.sliceRows(1, 2), masked.sliceRows(1, 2), 1e-6);
            assertTrue(GoldenCase.relErr(masked.sliceRows(0, 1).toFloatArray(), out.sliceRows(0, 1).toFloatArray()) > 1e-3);
        }
    }

    @Test
    void anAllLiveFrameMaskIsThePlainForward() {
        try (STDiT3 model = golden()) {
            NamedInputs.Call call = otherShapes(model.info(), 2, new Random(22));
            assertClose(model.forward(call.x(), call.timesteps(), call.cond()),
                    model.forward(call.x(), call.timesteps(), call.cond(), frameMask(2, 5, -1, -1)), 1e-6);
            assertThrows(IllegalArgumentException.class, () -> model.forward(call.x(), call.timesteps(), call.cond(), frameMask(2, 4, -1, -1)));
        }
    }

    @Test
    void maskedCaptionTokensActAsAbsent() {
        try (STDiT3 model = golden()) {
            NamedInputs.Call call = otherShapes(model.info(), 1, new Random(23));
            int dt = model.info().captionChannels();
            Tensor caption = random(new Random(24), 1, 6, dt);
            int[] valid = {0, 2, 3};
            float[] kept = new float[valid.length * dt];
            for (int i = 0; i < valid.length; i++) for (int c = 0; c < dt; c++) kept[i * dt + c] = caption.getFloat((long) valid[i] * dt + c);
            Conditioning c = call.cond();
            Conditioning masked = new Conditioning(null, caption, Tensor.of(new float[]{1, 0, 1, 1, 0, 0}, 1, 6), c.imageHw(), null, c.fps());
            Conditioning truncated = new Conditioning(null, Tensor.of(kept, 1, valid.length, dt), null, c.imageHw(), null, c.fps());
            assertClose(model.forward(call.x(), call.timesteps(), truncated), model.forward(call.x(), call.timesteps(), masked), 1e-5);
        }
    }

    @Test
    void fpsAndTheFirstSamplesSizeCondition() {
        try (STDiT3 model = golden()) {
            NamedInputs.Call call = otherShapes(model.info(), 2, new Random(25));
            Conditioning c = call.cond();
            Tensor out = model.forward(call.x(), call.timesteps(), c);
            Tensor otherFps = Tensor.of(new float[]{c.fps().getFloat(0), 60}, 2);
            Tensor changed = model.forward(call.x(), call.timesteps(), c.withVideoConditions(c.imageHw(), otherFps));
            assertClose(out.sliceRows(0, 1), changed.sliceRows(0, 1), 1e-6);
            assertTrue(GoldenCase.relErr(changed.sliceRows(1, 2).toFloatArray(), out.sliceRows(1, 2).toFloatArray()) > 1e-4);
            // the positional-embedding scale comes from height[0], width[0] only (official code)
            float[] hw = c.imageHw().toFloatArray();
            hw[2] *= 2;
            assertClose(out, model.forward(call.x(), call.timesteps(), c.withVideoConditions(Tensor.of(hw, 2, 2), c.fps())), 1e-6);
            hw[0] *= 2;
            assertTrue(GoldenCase.relErr(model.forward(call.x(), call.timesteps(), c.withVideoConditions(Tensor.of(hw, 2, 2), c.fps()))
                    .toFloatArray(), out.toFloatArray()) > 1e-4);
        }
    }

    @Test
    void latentSizesOffThePatchGridArePaddedAndCropped() {
        // 240p at 9:16 has 53 latent rows: the official PatchEmbed3D pads with zeros, unpatchify crops
        try (STDiT3 model = golden()) {
            int p = model.info().patchSize();
            Random rnd = new Random(26);
            NamedInputs.Call call = otherShapes(model.info(), 1, rnd);
            Tensor odd = random(rnd, 1, model.info().inChannels(), 2, 2L * p + 1, 3L * p - 1);
            Tensor padded = Tensor.zeros(1, model.info().inChannels(), 2, 3L * p, 3L * p);
            for (int pl = 0; pl < model.info().inChannels() * 2; pl++) for (int r = 0; r < 2 * p + 1; r++) for (int c = 0; c < 3 * p - 1; c++) {
                padded.setFloat(((long) pl * 3 * p + r) * 3 * p + c, odd.getFloat(((long) pl * (2 * p + 1) + r) * (3 * p - 1) + c));
            }
            Tensor out = model.forward(odd, call.timesteps(), call.cond());
            Tensor full = model.forward(padded, call.timesteps(), call.cond());
            assertArrayEquals(new long[]{1, model.info().outChannels(), 2, 2L * p + 1, 3L * p - 1}, out.shape());
            for (int pl = 0; pl < model.info().outChannels() * 2; pl++) for (int r = 0; r < 2 * p + 1; r++) for (int c = 0; c < 3 * p - 1; c++) {
                assertEquals(full.getFloat(((long) pl * 3 * p + r) * 3 * p + c), out.getFloat(((long) pl * (2 * p + 1) + r) * (3 * p - 1) + c), 1e-6f);
            }
        }
    }
}
