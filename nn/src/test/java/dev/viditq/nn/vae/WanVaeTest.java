package dev.viditq.nn.vae;

import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.RandomCheckpoints;
import dev.viditq.nn.models.ModelConfig;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Wan VAE on its golden folder, and at other widths and depths with random weights (3 levels, one temporal
 * downsampling, encoder attention, odd frame counts, non-square frames): shapes, causality (a prefix of the input
 * gives a prefix of the output, which is what the chunked cache must preserve), the streaming sink, and the original
 * key names.
 */
class WanVaeTest {
    private static final GoldenFolder WAN = GoldenFolder.named("golden_wan");

    @Test
    void asAPipelinesLatentDecoderItUnscalesAndTakesClipsOfOnePlusFourK() throws Exception {
        Path golden = WAN.resolve("wan_vae");
        try (WanVae vae = WanVae.load(golden); Safetensors io = Safetensors.open(golden.resolve("io.safetensors"))) {
            LatentDecoder decoder = vae;
            assertEquals(16, decoder.latentChannels());
            assertEquals(8, decoder.pixelsPerLatent());
            assertEquals(6, decoder.fullResolutionChannels(), "base_dim 6: the last decoder level's width");
            assertEquals(1, decoder.latentFrames(1));
            assertEquals(3, decoder.latentFrames(9));
            assertEquals(21, decoder.latentFrames(81));
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> decoder.latentFrames(10));
            assertTrue(bad.getMessage().contains("9 or 13"), bad.getMessage());
            // the pipeline's decode is WanPipeline's: latents un-normalised by latents_mean / latents_std first
            Tensor z = io.get("z");
            int frames = 1 + vae.temporalFactor() * (z.size(2) - 1); // the clip the latents hold
            double err = GoldenCase.relErr(decoder.decodeLatents(z, frames).toFloatArray(), io.get("decoded_pipeline").toFloatArray());
            assertTrue(err < 1e-4, "decodeLatents vs decoded_pipeline: " + err);
        }
        // the original release's file alone, without a config: refused unless it has the original names
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanVae.load(golden.resolve("model.safetensors")).close());
        assertTrue(e.getMessage().contains("Wan2.1_VAE.pth"), e.getMessage());
    }

    @Test
    void goldenCaseMatches() {
        Path golden = WAN.resolve("wan_vae");
        for (GoldenCase.Comparison c : new WanVaeGolden().run(golden)) {
            assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
        }
    }

    @Test
    void checkpointShapesAreThoseOfTheOfficialLayout() {
        Path golden = WAN.resolve("wan_vae");
        Map<String, long[]> expected = WanVae.checkpointShapes(WanVaeConfig.load(golden.resolve("config.json")));
        try (Safetensors f = Safetensors.open(golden.resolve("model.safetensors"))) {
            assertEquals(f.names(), expected.keySet());
            for (String k : f.names()) assertArrayEquals(f.get(k).shape(), expected.get(k), k);
        }
    }

    private static final String SMALL = "{\"_class_name\": \"AutoencoderKLWan\", \"base_dim\": 4, \"z_dim\": 3, \"dim_mult\": [1, 2, 3],"
            + " \"num_res_blocks\": 1, \"attn_scales\": [0.5], \"temperal_downsample\": [true, false],"
            + " \"latents_mean\": [0.1, -0.2, 0.3], \"latents_std\": [1.5, 0.5, 2.0]}";

    private static Path smallVae(Path dir) throws Exception {
        ModelConfig cfg = new ModelConfig(dir.resolve("config.json"), new com.fasterxml.jackson.databind.ObjectMapper().readTree(SMALL));
        return RandomCheckpoints.write(dir, SMALL, WanVae.checkpointShapes(WanVaeConfig.from(cfg)), 9, DType.F32);
    }

    @Test
    void otherSizesAreCausalChunkByChunk(@TempDir Path tmp) throws Exception {
        Path dir = smallVae(tmp);
        SplittableRandom r = new SplittableRandom(1);
        try (WanVae vae = WanVae.load(dir)) {
            assertEquals(2, vae.temporalFactor());
            Tensor x = RandomCheckpoints.uniform(r, 1f, 2, 3, 6, 12, 8);      // 6 frames: the last one is not encoded
            Tensor z = vae.encodeMean(x);
            assertArrayEquals(new long[]{2, 3, 3, 3, 2}, z.shape());
            Tensor prefix = vae.encodeMean(frames(x, 3));
            assertArrayEquals(frames(z, 2).toFloatArray(), prefix.toFloatArray(), 1e-5f, "encoder is causal");

            Tensor decoded = vae.decode(z);
            assertArrayEquals(new long[]{2, 3, 5, 12, 8}, decoded.shape());
            for (float v : decoded.toFloatArray()) assertTrue(v >= -1 && v <= 1);
            assertArrayEquals(frames(decoded, 3).toFloatArray(), vae.decode(frames(z, 2)).toFloatArray(), 1e-5f, "decoder is causal");

            List<String> order = new ArrayList<>();
            Tensor streamed = Tensor.zeros(decoded.shape());
            vae.decode(z, (b, t, rgb) -> {
                order.add(b + ":" + t);
                float[] v = rgb.toFloatArray();
                long plane = 12 * 8;
                for (int c = 0; c < 3; c++) {
                    for (int i = 0; i < plane; i++) streamed.setFloat(((b * 3L + c) * 5 + t) * plane + i, v[(int) (c * plane + i)]);
                }
            });
            assertEquals(List.of("0:0", "0:1", "0:2", "0:3", "0:4", "1:0", "1:1", "1:2", "1:3", "1:4"), order);
            assertArrayEquals(decoded.toFloatArray(), streamed.toFloatArray(), 0f);

            // decodeScaled = decode of z / (1/std) + mean
            Tensor scaled = vae.unscale(z);
            assertEquals(z.getFloat(0) / (1f / 1.5f) + 0.1f, scaled.getFloat(0), 1e-5f);
        }
    }

    @Test
    void theOriginalCheckpointNamesLoadIntoTheSameVae(@TempDir Path tmp) throws Exception {
        Path dir = smallVae(tmp.resolve("diffusers"));
        WanVaeConfig config = WanVaeConfig.load(dir.resolve("config.json"));
        Path original = tmp.resolve("original");
        Files.createDirectories(original);
        Files.copy(dir.resolve("config.json"), original.resolve("config.json"));
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        try (Safetensors f = Safetensors.open(dir.resolve("model.safetensors"))) {
            Map<String, String> inverse = new LinkedHashMap<>();
            for (String o : originalNames(config)) inverse.put(WanVaeOriginalKeys.toDiffusers(o, config), o);
            for (String k : f.names()) {
                assertTrue(inverse.containsKey(k), "no original name maps to " + k);
                renamed.put(inverse.get(k), f.get(k).copy());
            }
        }
        SafetensorsWriter.write(original.resolve("model.safetensors"), renamed);
        Tensor z = RandomCheckpoints.uniform(new SplittableRandom(3), 1f, 1, 3, 2, 2, 3);
        try (WanVae a = WanVae.load(dir); WanVae b = WanVae.load(original)) {
            assertArrayEquals(a.decode(z).toFloatArray(), b.decode(z).toFloatArray(), 0f);
        }
    }

    /**
     * The original Wan2.1_VAE names of the small config, written out from the original module structure: flat
     * encoder.downsamples / decoder.upsamples lists of residual (residual.0/2/3/6, shortcut), attention and resample
     * modules, middle.0-2, head.0/2, conv1 in front of each coder, conv1/conv2 around the latent.
     */
    private static List<String> originalNames(WanVaeConfig c) {
        List<String> n = new ArrayList<>();
        for (String coder : new String[]{"encoder", "decoder"}) {
            conv(n, coder + ".conv1");
            for (String m : new String[]{"middle.0", "middle.2"}) residual(n, coder + "." + m, true);
            attention(n, coder + ".middle.1");
            n.add(coder + ".head.0.gamma");
            conv(n, coder + ".head.2");
        }
        // encoder: level 0 (4→4): res 0, resample 1 (3D); level 1 (4→8): res 2 (+shortcut), attn 3, resample 4 (2D); level 2: res 5
        residual(n, "encoder.downsamples.0", false);
        conv(n, "encoder.downsamples.1.resample.1");
        conv(n, "encoder.downsamples.1.time_conv");
        residual(n, "encoder.downsamples.2", true);
        attention(n, "encoder.downsamples.3");
        conv(n, "encoder.downsamples.4.resample.1");
        residual(n, "encoder.downsamples.5", true);
        // decoder: level 0 (12→12): res 0, 1, up 2 (2D); level 1 (6→8): res 3 (+shortcut), 4, up 5 (3D); level 2 (4→4): res 6, 7
        residual(n, "decoder.upsamples.0", false);
        residual(n, "decoder.upsamples.1", false);
        conv(n, "decoder.upsamples.2.resample.1");
        residual(n, "decoder.upsamples.3", true);
        residual(n, "decoder.upsamples.4", false);
        conv(n, "decoder.upsamples.5.resample.1");
        conv(n, "decoder.upsamples.5.time_conv");
        residual(n, "decoder.upsamples.6", false);
        residual(n, "decoder.upsamples.7", false);
        conv(n, "conv1");
        conv(n, "conv2");
        return n;
    }

    private static void conv(List<String> n, String key) {
        n.add(key + ".weight");
        n.add(key + ".bias");
    }

    private static void residual(List<String> n, String key, boolean shortcut) {
        n.add(key + ".residual.0.gamma");
        conv(n, key + ".residual.2");
        n.add(key + ".residual.3.gamma");
        conv(n, key + ".residual.6");
        if (shortcut) conv(n, key + ".shortcut");
    }

    private static void attention(List<String> n, String key) {
        n.add(key + ".norm.gamma");
        conv(n, key + ".to_qkv");
        conv(n, key + ".proj");
    }

    /** The first n frames of [B, C, T, H, W]. */
    private static Tensor frames(Tensor v, int n) {
        long[] s = v.shape();
        long plane = s[3] * s[4];
        Tensor out = Tensor.zeros(s[0], s[1], n, s[3], s[4]);
        for (long bc = 0; bc < s[0] * s[1]; bc++) {
            for (long i = 0; i < n * plane; i++) out.setFloat(bc * n * plane + i, v.getFloat(bc * s[2] * plane + i));
        }
        return out;
    }
}
