package dev.viditq.nn.vae;

import dev.viditq.core.testing.GoldenFolder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Open-Sora 1.2's video VAE on the golden weights with other shapes than the golden case's (batch 2, non-square
 * frames, frame counts that end in a partial chunk), checking what the official code guarantees: micro-frame chunks
 * and samples are computed independently, the 2-D VAE frame by frame; sizes follow from the config.
 */
class OpenSoraVaeTest {
    private static final GoldenFolder NEXT = GoldenFolder.named("golden_next");

    private static OpenSoraVae load() {
        return OpenSoraVae.load(golden());
    }

    private static Path golden() {
        return NEXT.resolve("opensora_vae");
    }

    private static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) rnd.nextGaussian());
        return t;
    }

    /** Frames [from, to) of a [B, C, T, H, W] tensor (dimension 2), optionally of one sample only. */
    static Tensor frames(Tensor v, int from, int to) {
        int b = v.size(0), c = v.size(1), t = v.size(2);
        long plane = (long) v.size(3) * v.size(4);
        Tensor out = Tensor.zeros(b, c, to - from, v.size(3), v.size(4));
        for (int i = 0; i < b * c; i++) {
            out.data().asSlice((long) i * (to - from) * plane * 4, (to - from) * plane * 4)
                    .copyFrom(v.data().asSlice(((long) i * t + from) * plane * 4, (to - from) * plane * 4));
        }
        return out;
    }

    private static float[] concatFrames(List<Tensor> parts) {
        int b = parts.getFirst().size(0), c = parts.getFirst().size(1);
        List<Float> all = new ArrayList<>();
        for (int i = 0; i < b * c; i++) {
            for (Tensor p : parts) {
                long n = p.numel() / ((long) b * c);
                for (long j = 0; j < n; j++) all.add(p.getFloat(i * n + j));
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }

    @Test
    void latentFramesCountWholeChunksThenTheRemainder() {
        try (OpenSoraVae vae = load()) {
            // the golden config: micro_frame_size 5, time factor 4 → a chunk of 5 frames makes 2 latent frames
            assertEquals(2, vae.latentFrames(5));
            assertEquals(3, vae.latentFrames(9));
            assertEquals(5, vae.latentFrames(11));
            assertEquals(1, vae.latentFrames(1));
        }
    }

    @Test
    void encodeCutsTheVideoIntoIndependentChunks() {
        try (OpenSoraVae vae = load()) {
            Random rnd = new Random(1);
            int f = vae.downscale();
            Tensor x = random(rnd, 2, 3, 11, 3L * f, 5L * f); // chunks of 5, 5, 1 frames
            Tensor z = vae.encode(x);
            assertArrayEquals(new long[]{2, vae.latentChannels(), vae.latentFrames(11), 3, 5}, z.shape());
            float[] pieces = concatFrames(List.of(vae.encode(frames(x, 0, 5)), vae.encode(frames(x, 5, 10)), vae.encode(frames(x, 10, 11))));
            assertTrue(GoldenCase.relErr(z.toFloatArray(), pieces) < 1e-6);
            // a sample alone is its row of the batch
            Tensor second = vae.encode(x.sliceRows(1, 2));
            assertTrue(GoldenCase.relErr(second.toFloatArray(), z.sliceRows(1, 2).toFloatArray()) < 1e-6);
            // chunks are not a no-op: the same frames encoded as one clip differ (GroupNorm sees the whole clip)
            assertTrue(GoldenCase.relErr(vae.encode(frames(x, 0, 4)).toFloatArray(),
                    frames(vae.encode(frames(x, 0, 5)), 0, 1).toFloatArray()) > 1e-3);
        }
    }

    @Test
    void decodeCutsTheLatentsIntoIndependentChunksAndStreamsFrames() {
        try (OpenSoraVae vae = load()) {
            Random rnd = new Random(2);
            int f = vae.downscale();
            Tensor z = random(rnd, 2, vae.latentChannels(), vae.latentFrames(11), 4, 3);
            Tensor x = vae.decode(z, 11);
            assertArrayEquals(new long[]{2, 3, 11, 4L * f, 3L * f}, x.shape());
            float[] pieces = concatFrames(List.of(vae.decode(frames(z, 0, 2), 5), vae.decode(frames(z, 2, 4), 5), vae.decode(frames(z, 4, 5), 1)));
            assertTrue(GoldenCase.relErr(x.toFloatArray(), pieces) < 1e-6);

            List<String> order = new ArrayList<>();
            Tensor streamed = Tensor.zeros(x.shape());
            vae.decode(z, 11, (b, t, image) -> {
                order.add(b + ":" + t);
                assertArrayEquals(new long[]{3, 4L * f, 3L * f}, image.shape());
                long plane = image.numel() / 3;
                for (int c = 0; c < 3; c++) for (long i = 0; i < plane; i++) {
                    streamed.setFloat(((long) (b * 3 + c) * 11 + t) * plane + i, image.getFloat(c * plane + i));
                }
            });
            assertEquals(22, order.size());
            assertEquals("0:0", order.getFirst());
            assertEquals("1:10", order.getLast());
            assertArrayEquals(x.toFloatArray(), streamed.toFloatArray());
            for (float v : x.toFloatArray()) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void latentsThatHoldMoreFramesThanAskedAreRefused() {
        try (OpenSoraVae vae = load()) {
            Tensor z = Tensor.zeros(1, vae.latentChannels(), 5, 2, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> vae.decode(z, 5));
            assertTrue(e.getMessage().contains("5 latent frames hold more than 5 frames"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> vae.encode(Tensor.zeros(1, 4, 2, 4, 4)));
        }
    }

    /** The golden folder's weights with a rewritten config.json. */
    private static Path withConfig(Path tmp, UnaryOperator<ObjectNode> edit) throws Exception {
        Path golden = golden();
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(golden.resolve("config.json").toFile());
        Path dir = Files.createDirectories(tmp.resolve("vae"));
        Files.writeString(dir.resolve("config.json"), edit.apply(config).toPrettyString());
        Files.createSymbolicLink(dir.resolve("model.safetensors"), golden.resolve("model.safetensors").toAbsolutePath());
        return dir;
    }

    @Test
    void theSpatialConfigIsReadOffTheWeightsWhenOnlyAHubIdIsGiven(@TempDir Path tmp) throws Exception {
        // released configs name the 2-D VAE by hub id; every size but the group count shows in the weight shapes
        Path goldenDir = golden();
        com.fasterxml.jackson.databind.JsonNode given = new ObjectMapper().readTree(goldenDir.resolve("config.json").toFile())
                .path("vae_2d").path("from_pretrained");
        VaeConfig stated = VaeConfig.fromJson(given);
        try (var file = dev.viditq.core.io.Safetensors.open(goldenDir.resolve("model.safetensors"))) {
            VaeConfig read = VaeConfig.inferFromWeights(file, "spatial_vae.module.", stated.normNumGroups());
            assertEquals(stated, new VaeConfig(read.inChannels(), read.outChannels(), read.blockOutChannels(), read.layersPerBlock(),
                    read.latentChannels(), read.normNumGroups(), stated.scalingFactor(), stated.shiftFactor(), read.useQuantConv(),
                    read.usePostQuantConv(), read.midBlockAddAttention()), "all but the scaling (which the pipeline does not use)");
        }
        Path dir = withConfig(tmp, c -> {
            ((ObjectNode) c.get("vae_2d")).put("from_pretrained", "PixArt-alpha/pixart_sigma_sdxlvae_T5_diffusers").put("subfolder", "vae");
            return c;
        });
        Random rnd = new Random(3);
        if (stated.normNumGroups() == 32) {
            try (OpenSoraVae golden = load(); OpenSoraVae released = OpenSoraVae.load(dir)) {
                Tensor x = random(rnd, 1, 3, 6, 4L * golden.downscale(), 2L * golden.downscale());
                assertArrayEquals(golden.encode(x).toFloatArray(), released.encode(x).toFloatArray());
            }
        } else {
            CheckpointException e = assertThrows(CheckpointException.class, () -> OpenSoraVae.load(dir));
            assertTrue(e.getMessage().contains("norm_num_groups 32"), e.getMessage());
        }
    }

    @Test
    void withoutMicroFramesTheWholeVideoIsOneClip(@TempDir Path tmp) throws Exception {
        Path dir = withConfig(tmp, c -> c.putNull("micro_frame_size"));
        Random rnd = new Random(4);
        try (OpenSoraVae chunked = load(); OpenSoraVae whole = OpenSoraVae.load(dir)) {
            assertEquals(3, whole.latentFrames(9)); // 9 frames + 3 padding = 12 → 3
            Tensor x = random(rnd, 1, 3, 5, 2L * whole.downscale(), 2L * whole.downscale());
            assertArrayEquals(chunked.encode(x).toFloatArray(), whole.encode(x).toFloatArray()); // 5 frames: one chunk either way
            Tensor z = random(rnd, 1, 4, 3, 2, 2);
            assertArrayEquals(new long[]{1, 3, 9, 2L * whole.downscale(), 2L * whole.downscale()}, whole.decode(z, 9).shape());
        }
    }

    @Test
    void configErrorsNameTheProblem(@TempDir Path tmp) throws Exception {
        Path dir = withConfig(tmp, c -> {
            ((ObjectNode) c.get("vae_temporal")).put("filters", 9);
            return c;
        });
        CheckpointException e = assertThrows(CheckpointException.class, () -> OpenSoraVae.load(dir));
        assertTrue(e.getMessage().contains("key 'temporal_vae.encoder.conv_in.conv.weight' has shape"), e.getMessage());
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }
}
