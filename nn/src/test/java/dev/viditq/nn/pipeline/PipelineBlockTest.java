package dev.viditq.nn.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The config's "pipeline" block as the generation pipeline reads it, and what it refuses. */
class PipelineBlockTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path config(Path dir, String pipeline) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"family\": \"stdit3\"" + (pipeline == null ? "" : ", \"pipeline\": " + pipeline) + "}");
        return f;
    }

    @Test
    void readsWhatItStatesAndLeavesTheRestNull(@TempDir Path tmp) throws Exception {
        assertEquals(PipelineBlock.NONE, PipelineBlock.read(config(tmp, null)));
        PipelineBlock b = PipelineBlock.read(config(tmp, "{\"height\": 240, \"width\": 424, \"frames\": 51, \"fps\": 24, "
                + "\"timestep_shift\": 2.5, \"sampler\": \"rflow\", \"vae\": null}"));
        assertEquals(new PipelineBlock(240, 424, 51, 24.0, 2.5), b);
        assertEquals(new PipelineBlock(null, null, 16, null, null), PipelineBlock.read(config(tmp, "{\"frames\": 16, \"fps\": null}")));
    }

    @Test
    void badValuesNameTheKey(@TempDir Path tmp) throws Exception {
        for (String[] bad : new String[][]{{"{\"timestep_shift\": 0}", "pipeline.timestep_shift must be a positive number"},
                {"{\"timestep_shift\": \"big\"}", "pipeline.timestep_shift"}, {"{\"fps\": -24}", "pipeline.fps"},
                {"{\"frames\": 2.5}", "pipeline.frames must be a positive integer"}, {"{\"height\": 0}", "pipeline.height"},
                {"[1, 2]", "\"pipeline\" must be an object"}}) {
            var e = assertThrows(IllegalArgumentException.class, () -> PipelineBlock.read(config(tmp, bad[0])), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]) && e.getMessage().contains("config.json"), e.getMessage());
        }
    }

    /** The keys of flow-matching and frame-rate-conditioned models are refused on a model they cannot apply to. */
    @Test
    void keysTheModelCannotUseAreRefusedAtLoad(@TempDir Path tmp) throws Exception {
        TinyModels.requireCases();
        Path dit = TinyModels.flat(tmp.resolve("dit"), "dit");
        ObjectNode cfg = (ObjectNode) JSON.readTree(dit.resolve("config.json").toFile());
        cfg.putObject("pipeline").put("timestep_shift", 3.0);
        Files.writeString(dit.resolve("config.json"), cfg.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> GenerationPipeline.load(dit));
        assertTrue(e.getMessage().contains("pipeline.timestep_shift") && e.getMessage().contains("not a flow-matching"), e.getMessage());
        cfg.putObject("pipeline").put("fps", 8);
        Files.writeString(dit.resolve("config.json"), cfg.toString());
        e = assertThrows(IllegalArgumentException.class, () -> GenerationPipeline.load(dit));
        assertTrue(e.getMessage().contains("pipeline.fps"), e.getMessage());
        cfg.putObject("pipeline").put("height", 8).put("width", 12);
        Files.writeString(dit.resolve("config.json"), cfg.toString());
        try (GenerationPipeline p = GenerationPipeline.load(dit)) {
            assertEquals(8, p.defaults().height());
            assertEquals(12, p.defaults().width(), "the block's size replaces the model's");
        }
    }
}
