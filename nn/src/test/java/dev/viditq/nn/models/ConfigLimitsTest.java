package dev.viditq.nn.models;

import dev.viditq.core.io.MemoryBudget;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.StrictJson;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Absurd configs and sizes are refused by key and limit before anything is built; real ones pass. */
class ConfigLimitsTest {
    private static final Path FILE = Path.of("config.json");

    private static ModelConfig config(String json) throws Exception {
        return new ModelConfig(FILE, StrictJson.MAPPER.readTree(json));
    }

    private static String refusal(String json) throws Exception {
        ModelConfig cfg = config(json);
        return assertThrows(IllegalArgumentException.class, () -> ConfigLimits.check(cfg)).getMessage();
    }

    private static final String BASE = "\"family\": \"pixart\", \"input_size\": 32, \"patch_size\": 2, \"in_channels\": 4, "
            + "\"hidden_size\": 1152, \"num_heads\": 16, \"caption_channels\": 4096, \"mlp_ratio\": 4.0";

    @Test
    void realConfigsPass() throws Exception {
        ConfigLimits.check(config("{" + BASE + ", \"depth\": 28}"));
        ConfigLimits.check(config("{\"_class_name\": \"LatteTransformer3DModel\", \"num_layers\": 28, \"num_attention_heads\": 16,"
                + " \"attention_head_dim\": 72, \"sample_size\": 64, \"patch_size\": 2, \"video_length\": 16, \"out_channels\": null}"));
        ConfigLimits.check(config("{\"family\": \"stdit\", \"input_size\": [16, 32, 32], \"patch_size\": [1, 2, 2], \"hidden_size\": 1152,"
                + " \"depth\": 28, \"num_heads\": 16}"));
    }

    @Test
    void absurdValuesAreNamedWithTheirLimit() throws Exception {
        assertTrue(refusal("{" + BASE + ", \"depth\": 1000000000}").startsWith(FILE + ": \"depth\" is 1000000000; it must be an integer from 1 to"));
        assertTrue(refusal("{" + BASE + ", \"depth\": 100000}").contains("\"depth\" 100000 at width 1152 makes an estimated"));
        assertTrue(refusal("{" + BASE.replace("\"num_heads\": 16", "\"num_heads\": -4") + ", \"depth\": 28}").contains("\"num_heads\" is -4"));
        assertTrue(refusal("{" + BASE.replace("\"num_heads\": 16", "\"num_heads\": 7") + ", \"depth\": 28}")
                .contains("\"num_heads\" 7 does not divide \"hidden_size\" 1152"));
        assertTrue(refusal("{" + BASE.replace("\"patch_size\": 2", "\"patch_size\": 0") + ", \"depth\": 28}").contains("\"patch_size\" is 0"));
        assertTrue(refusal("{" + BASE.replace("\"patch_size\": 2", "\"patch_size\": [1, 0, 2]") + ", \"depth\": 28}").contains("\"patch_size\" is 0"));
        assertTrue(refusal("{" + BASE.replace("4.0", "-1") + ", \"depth\": 28}").contains("\"mlp_ratio\" is -1.0"));
        assertTrue(refusal("{" + BASE + ", \"depth\": 2.5}").contains("\"depth\" is 2.5"));
    }

    @Test
    void aGenerationBeyondMemoryIsRefusedNamingTheOptions() {
        ModelInfo pixart = ModelInfo.builder(ModelFamily.PIXART).inChannels(4).outChannels(8).patchSize(2).sampleSize(128)
                .hidden(1152).depth(28).heads(16).captionChannels(4096).captionTokens(120).build();
        ConfigLimits.checkGeneration(pixart, 1, 1024, 1024, 1, 1, 8, 128, "--size");
        String m = assertThrows(IllegalArgumentException.class,
                () -> ConfigLimits.checkGeneration(pixart, 1, 100_000, 100_000, 1, 1, 8, 128, "--size")).getMessage();
        assertTrue(m.startsWith("--size: 100000x100000 × 1 frame(s) × batch 1 in the VAE decoder needs an estimated"), m);
        assertTrue(m.contains("of activations, more than the"), m);
    }

    /**
     * The VAEs decode one frame of one sample at a time, so their activations do not grow with the frame count; only
     * the decoded frames do (240×424 × 51 frames: 0.1 GB of conv activations for one frame and 0.06 GB of output, where
     * counting the activations of every frame at once would ask 5.3 GB).
     */
    @Test
    void theVaeEstimateIsOneFrameAtATimePlusTheOutput() {
        ModelInfo video = ModelInfo.builder(ModelFamily.STDIT3).inChannels(4).outChannels(8).patchSize(2).sampleSize(0)
                .frames(0).hidden(64).depth(2).heads(4).captionChannels(64).captionTokens(6).build();
        assertTrue(MemoryBudget.tensorBytes() > 400L << 20, "this check needs a JVM that may give tensors 400 MB");
        ConfigLimits.checkGeneration(video, 1, 240, 424, 51, 15, 8, 128, "--size, --frames");
        String m = assertThrows(IllegalArgumentException.class,
                () -> ConfigLimits.checkGeneration(video, 1, 240, 424, 2_000_000, 2_000_000, 8, 128, "--size, --frames")).getMessage();
        assertTrue(m.startsWith("--size, --frames: 240x424 × 2000000 frame(s)"), m);
    }

    /** Behind a VAE with temporal compression the denoiser sees the latent frames: those, not the video's, bound its tokens. */
    @Test
    void theDenoiserEstimateCountsLatentFrames() {
        ModelInfo stdit3 = ModelInfo.builder(ModelFamily.STDIT3).inChannels(4).outChannels(8).patchSize(2).sampleSize(0)
                .frames(0).hidden(1152).depth(28).heads(16).captionChannels(4096).captionTokens(300).build();
        long perFrame = 15L * 26 * 1152 * ConfigLimits.ACTIVATION_VALUES_PER_WIDTH * Float.BYTES; // 240×424 px: 15×26 patches
        int frames = Math.toIntExact(MemoryBudget.tensorBytes() / perFrame + 1);
        assertThrows(IllegalArgumentException.class, () -> ConfigLimits.checkGeneration(stdit3, 1, 240, 424, frames, frames, 8, 128, "--frames"));
        ConfigLimits.checkGeneration(stdit3, 1, 240, 424, frames, frames / 4, 8, 128, "--frames"); // a ×4 temporal VAE
    }
}
