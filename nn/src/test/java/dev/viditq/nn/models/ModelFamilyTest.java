package dev.viditq.nn.models;

import dev.viditq.core.testing.GoldenFolder;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.sampling.Prediction;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.text.Captions;
import dev.viditq.nn.vae.AutoencoderKL;
import dev.viditq.nn.vae.LatentDecoder;
import dev.viditq.nn.vae.OpenSoraVae;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The family table: recognition of checkpoints and configs, and the facts each family's pipeline relies on. */
class ModelFamilyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ModelConfig config(String json) {
        try {
            return new ModelConfig(Path.of("config.json"), JSON.readTree(json));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Each golden checkpoint matches its own family's key signature and no other one. */
    @ParameterizedTest
    @CsvSource({"golden, dit, DIT", "golden, pixart_original, PIXART", "golden, pixart_diffusers, PIXART_DIFFUSERS",
            "golden, stdit_v1, STDIT", "golden, latte_diffusers, LATTE_DIFFUSERS", "golden_next, stdit3, STDIT3"})
    void eachGoldenCheckpointMatchesExactlyOneSignature(String folder, String goldenCase, ModelFamily expected) {
        Path file = GoldenFolder.named(folder).resolve(goldenCase + "/model.safetensors");
        try (TensorFile f = Checkpoints.open(file)) {
            Set<String> keys = f.names();
            assertEquals(expected, ModelFamily.byKeys(keys));
            for (ModelFamily other : ModelFamily.values()) {
                assertEquals(other == expected, other.signature().matches(keys), other + " on " + goldenCase);
            }
        }
    }

    @Test
    void configsNameTheirFamilyInEachOfTheThreeWays() {
        assertEquals(ModelFamily.LATTE_DIFFUSERS, ModelFamily.byConfig(config("{\"_class_name\": \"LatteTransformer3DModel\"}")));
        assertEquals(ModelFamily.PIXART_DIFFUSERS, ModelFamily.byConfig(config("{\"_class_name\": \"Transformer2DModel\"}")));
        assertEquals(ModelFamily.STDIT3, ModelFamily.byConfig(config("{\"model_type\": \"STDiT3\"}")));
        assertEquals(ModelFamily.PIXART, ModelFamily.byConfig(config("{\"family\": \"PixArt-Sigma\"}")));
        assertEquals(ModelFamily.STDIT, ModelFamily.byConfig(config("{\"family\": \"stdit1\"}")));
        assertNull(ModelFamily.byConfig(config("{\"model_type\": \"t5\"}")), "a model_type of no family says nothing");
        assertEquals(ModelFamily.WAN, ModelFamily.byConfig(config("{\"_class_name\": \"WanTransformer3DModel\"}")));
        assertEquals(ModelFamily.WAN_ORIGINAL, ModelFamily.byConfig(config("{\"_class_name\": \"WanModel\"}")));
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFamily.byConfig(config("{\"family\": \"sora\"}")));
        assertTrue(e.getMessage().contains("\"sora\"") && e.getMessage().contains("stdit3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelFamily.byConfig(config("{\"_class_name\": \"CogVideoXTransformer3DModel\"}")));
        assertTrue(e.getMessage().contains("LatteTransformer3DModel"), "lists the supported classes: " + e.getMessage());
    }

    @Test
    void keysAndConfigMustAgreeAndOneOfThemMustSpeak() {
        Set<String> ditKeys = Set.of("y_embedder.embedding_table.weight");
        assertEquals(ModelFamily.DIT, ModelFamily.detect(config("{}"), ditKeys));
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFamily.detect(config("{\"family\": \"pixart\"}"), ditKeys));
        assertTrue(e.getMessage().contains("keys are those of a dit, original layout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelFamily.detect(config("{}"), Set.of("w")));
        assertTrue(e.getMessage().contains("cannot tell the model family"), e.getMessage());
    }

    /** What the official pipelines do, as the descriptors state it. */
    @Test
    void guidanceConventionsFollowTheOfficialCode() {
        assertEquals(new CfgConvention(true, 3), ModelFamily.DIT.guidance("iddpm", 4));
        assertEquals(new CfgConvention(true, 3), ModelFamily.PIXART.guidance("iddpm", 4));
        assertEquals(new CfgConvention(false, 4), ModelFamily.PIXART.guidance("dpm-solver", 4));
        assertEquals(new CfgConvention(true, 4), ModelFamily.STDIT.guidance("iddpm", 4));
        assertEquals(new CfgConvention(true, CfgConvention.ALL), ModelFamily.STDIT3.guidance("rflow", 4));
        assertEquals(CfgConvention.DIFFUSERS, ModelFamily.PIXART_DIFFUSERS.guidance("iddpm", 4));
        assertEquals(CfgConvention.DIFFUSERS, ModelFamily.LATTE_DIFFUSERS.guidance("ddim", 4));
    }

    @ParameterizedTest
    @EnumSource(ModelFamily.class)
    void everyFamilyIsCompleteAndConsistent(ModelFamily f) {
        assertFalse(f.signature().present().isEmpty(), "a checkpoint is recognised by its keys");
        assertNotNull(f.masking());
        assertTrue(Samplers.NAMES.contains(f.sampling().sampler()), f.sampling().sampler());
        assertEquals(f.prediction(), Samplers.create(f.sampling().sampler(), Samplers.Options.DEFAULT).prediction(),
                "the default sampler expects what the family predicts");
        assertEquals(f.prediction(), Samplers.create(f.bareDenoiserSampler(), Samplers.Options.DEFAULT).prediction());
        if (f.prediction() == Prediction.EPSILON) assertEquals(1.0, f.flowShift(512, 512, 16));
        assertEquals(f.id(), f.toString());
        assertTrue(f.description().startsWith(f.id() + ", " + f.layout() + " layout"), f.description());
    }

    @Test
    void openSora12ShiftsBySizeAndConditionsOnFrameRate() {
        assertEquals(Prediction.VELOCITY, ModelFamily.STDIT3.prediction());
        assertEquals(Math.sqrt(5), ModelFamily.STDIT3.flowShift(512, 512, 17), 1e-12, "sqrt(512²/512²) · sqrt(17/17·5)");
        assertTrue(ModelFamily.STDIT3.videoConditions());
        assertEquals(24f, ModelFamily.STDIT3.conditioningFps(51));
        assertEquals(120f, ModelFamily.STDIT3.conditioningFps(1), "an image gets IMG_FPS");
        assertTrue(ModelFamily.STDIT3.padsToPatches(), "PatchEmbed3D pads the latent to whole patches");
        assertFalse(ModelFamily.STDIT.padsToPatches());
        assertEquals(300, ModelFamily.STDIT3.defaultCaptionTokens());
    }

    /** Each family opens its folder's vae/ with its own VAE class: Open-Sora 1.2 its video VAE, the others AutoencoderKL. */
    @Test
    void familiesOpenTheirOwnVae() {
        try (LatentDecoder vae = ModelFamily.STDIT3.openVae(GoldenFolder.named("golden_next").resolve("opensora_vae"))) {
            assertInstanceOf(OpenSoraVae.class, vae);
            assertEquals(2, vae.pixelsPerLatent());
            assertEquals(7, vae.latentFrames(16), "chunks of 5 frames: 2 + 2 + 2 latent frames, then 1 for the last frame");
        }
        try (LatentDecoder vae = ModelFamily.PIXART.openVae(GoldenFolder.GOLDEN.resolve("vae"))) {
            assertInstanceOf(AutoencoderKL.class, vae);
            assertEquals(16, vae.latentFrames(16));
            var e = assertThrows(IllegalArgumentException.class, () -> vae.decodeLatents(Tensor.zeros(1, vae.latentChannels(), 3, 2, 2), 4));
            assertTrue(e.getMessage().contains("3 frame(s), not 4"), e.getMessage());
        }
    }

    /** Latte cuts one caption to the tokenizer's count, which the captions carry (the mask is not counted again). */
    @Test
    void truncateOnlyUsesTheCarriedTokenCount() {
        Tensor e = Tensor.of(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 1, 4, 2);
        Tensor ones = Tensor.of(new float[]{1, 1, 1, 0}, 1, 4);
        Captions cond = new Captions(e, ones, new int[]{2}), uncond = new Captions(e.copy(), null);
        Captions[] pair = ModelFamily.Masking.TRUNCATE_ONLY.apply(cond, uncond);
        assertArrayEquals(new float[]{1, 2, 3, 4}, pair[0].embeddings().toFloatArray());
        assertNull(pair[0].mask(), "Latte's transformer takes no mask");
        assertEquals(2, pair[1].length(), "the negative is cut to as many tokens");

        Captions[] masked = ModelFamily.Masking.DROP_MASKED.apply(new Captions(e, null), new Captions(e.copy(), ones));
        assertArrayEquals(new float[]{1, 1, 1, 1}, masked[0].mask().toFloatArray(), "the side without a mask attends to every row");
        assertArrayEquals(ones.toFloatArray(), masked[1].mask().toFloatArray());
        assertThrows(IllegalStateException.class, () -> ModelFamily.Masking.NO_CAPTION.apply(cond, uncond));
    }

    @Test
    void modelInfoIsBuiltWithNamedFieldsAndChecked() {
        ModelInfo info = ModelInfo.builder(ModelFamily.STDIT).inChannels(4).outChannels(8).patchSize(2).sampleSize(32).frames(16)
                .hidden(1152).depth(28).heads(16).captionChannels(4096).captionTokens(120).build();
        assertTrue(info.video());
        assertTrue(info.learnedSigma());
        assertEquals(new CfgConvention(true, 4), info.guidance("iddpm"));
        var e = assertThrows(IllegalArgumentException.class, () -> ModelInfo.builder(ModelFamily.DIT).inChannels(4).outChannels(4)
                .patchSize(2).hidden(8).depth(1).heads(1).build());
        assertTrue(e.getMessage().contains("class-conditional"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelInfo.builder(ModelFamily.PIXART).inChannels(4).outChannels(4)
                .patchSize(2).hidden(8).depth(1).heads(1).captionChannels(8).frames(3).build());
        assertTrue(e.getMessage().contains("1 frame"), e.getMessage());
        assertTrue(Arrays.stream(ModelFamily.values()).filter(ModelFamily::classConditional).allMatch(f -> f == ModelFamily.DIT));
    }
}
