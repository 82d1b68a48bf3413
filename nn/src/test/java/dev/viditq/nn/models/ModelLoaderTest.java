package dev.viditq.nn.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static dev.viditq.nn.models.DenoiserTest.load;
import static org.junit.jupiter.api.Assertions.*;

class ModelLoaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"dit, DIT, dit, original", "pixart_original, PIXART, pixart, original",
            "pixart_diffusers, PIXART_DIFFUSERS, pixart, diffusers", "stdit_v1, STDIT, stdit, original",
            "latte_diffusers, LATTE_DIFFUSERS, latte, diffusers"})
    void detectsTheFamilyOfEachGoldenFolder(String folder, ModelFamily family, String id, String layout) {
        try (Denoiser model = load(folder)) {
            assertEquals(family, model.info().family());
            assertEquals(id, model.info().family().id());
            assertEquals(layout, model.info().family().layout().toString());
        }
    }

    /** A copy of a golden folder's model with an edited config and edited tensors. */
    private Path variant(String folder, Consumer<ObjectNode> config, Consumer<Map<String, Tensor>> tensors) throws IOException {
        Path src = GoldenFolder.GOLDEN.resolve(folder);
        Path dir = Files.createDirectories(tmp.resolve(folder));
        ObjectNode cfg = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        config.accept(cfg);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        try (Safetensors st = Safetensors.open(src.resolve("model.safetensors"))) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String k : st.names()) all.put(k, st.get(k).copy());
            tensors.accept(all);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), all);
        }
        return dir;
    }

    @Test
    void everyKeyProblemIsReportedInOneError() throws IOException {
        Path dir = variant("dit", c -> {}, t -> {
            t.remove("blocks.1.mlp.fc2.bias");
            t.put("blocks.1.extra.weight", Tensor.zeros(2, 2));
            t.put("final_layer.linear.weight", Tensor.zeros(3, 3));
        });
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        String m = e.getMessage();
        assertTrue(m.contains("missing key 'blocks.1.mlp.fc2.bias'"), m);
        assertTrue(m.contains("unexpected key 'blocks.1.extra.weight'"), m);
        assertTrue(m.contains("'final_layer.linear.weight' has shape [3, 3]"), m);
    }

    @Test
    void aDepthThatDisagreesWithTheCheckpointIsReported() throws IOException {
        Path dir = variant("stdit_v1", c -> c.put("depth", 1), t -> {});
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("unexpected key 'blocks.1.attn_temp.qkv.weight'"), e.getMessage());
    }

    @Test
    void configAndKeysMustAgreeOnTheFamily() throws IOException {
        Path dir = variant("pixart_original", c -> c.put("family", "dit"), t -> {});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        Path other = variant("latte_diffusers", c -> c.put("_class_name", "SD3Transformer2DModel"), t -> {});
        e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(other));
        assertTrue(e.getMessage().contains("SD3Transformer2DModel"), e.getMessage());
    }

    @Test
    void pixartDiffusersDefaultsFollowSampleSize() throws IOException {
        // without interpolation_scale and use_additional_conditions, sample_size 8 means scale 1 and no micro-conditions:
        // the golden output must still be reproduced
        Path dir = variant("pixart_diffusers", c -> {
            c.remove("interpolation_scale");
            c.remove("use_additional_conditions");
        }, t -> {});
        try (Denoiser model = ModelLoader.load(dir); Safetensors io = Safetensors.open(GoldenFolder.GOLDEN.resolve("pixart_diffusers/io.safetensors"))) {
            assertFalse(model.info().microConditions());
            NamedInputs.Call call = NamedInputs.read(io, "", model.info());
            Tensor out = model.forward(call.x(), call.timesteps(), call.cond());
            assertTrue(GoldenCase.relErr(out.toFloatArray(), io.get("out").toFloatArray()) < 1e-4);
        }
        // sample_size 128 switches micro-conditions on (refused here: their width H/3 needs H divisible by 3)
        Path big = variant("pixart_diffusers", c -> {
            c.put("sample_size", 128);
            c.remove("use_additional_conditions");
        }, t -> {});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(big));
        assertTrue(e.getMessage().contains("micro-conditions"), e.getMessage());
    }

    @Test
    void microConditionsFollowTheConfigWhenItSays() throws IOException {
        // Σ-style config: micro_condition stated true, but the checkpoint lacks the embedders
        Path dir = variant("pixart_original", c -> c.put("micro_condition", true), t -> t.keySet().removeIf(k -> k.startsWith("ar_embedder")));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("missing key 'ar_embedder.mlp.0.weight'"), e.getMessage());
        // stated false: the embedders in the checkpoint are unexpected
        Path off = variant("pixart_original", c -> c.put("micro_condition", false), t -> {});
        e = assertThrows(CheckpointException.class, () -> ModelLoader.load(off));
        assertTrue(e.getMessage().contains("unexpected key 'csize_embedder.mlp.0.weight'"), e.getMessage());
    }

    @Test
    void aMissingConfigIsNamed() throws IOException {
        Path dir = variant("dit", c -> {}, t -> {});
        Files.delete(dir.resolve("config.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
