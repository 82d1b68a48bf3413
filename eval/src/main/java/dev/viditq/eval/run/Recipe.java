package dev.viditq.eval.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.nn.sampling.Samplers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The sampling recipe a model was trained and validated with, read from the optional {@code "pipeline"} block of
 * its config.json (the bundled Shapes models carry one: sampler, steps, cfg_scale). The family defaults of
 * {@link dev.viditq.nn.pipeline.GenerationPipeline#defaults()} are those of the published checkpoints (Open-Sora
 * 1.0: iddpm, 100 steps, cfg 7), which a small model trained with another recipe need not match; evaluating it
 * with them would measure the wrong thing. Each field is null when the config does not state it.
 *
 * @param source where the values came from, for reports
 */
public record Recipe(String sampler, Integer steps, Double cfgScale, String source) {
    public static final Recipe NONE = new Recipe(null, null, null, "family defaults");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The recipe of a model folder (flat or diffusers layout); {@link #NONE} when its config has no pipeline block. */
    public static Recipe of(Path modelDir) {
        Path config = ModelFolder.resolve(modelDir).denoiser().resolve("config.json");
        JsonNode pipeline;
        try {
            pipeline = JSON.readTree(Files.readString(config)).path("pipeline");
        } catch (IOException e) {
            throw new IllegalArgumentException(config + ": cannot read the model config: " + e.getMessage(), e);
        }
        if (!pipeline.isObject()) return NONE;
        String sampler = pipeline.hasNonNull("sampler") ? samplerName(config, pipeline.get("sampler").asText()) : null;
        Integer steps = pipeline.hasNonNull("steps") ? positive(config, "steps", pipeline.get("steps")) : null;
        Double cfg = pipeline.hasNonNull("cfg_scale") ? number(config, "cfg_scale", pipeline.get("cfg_scale")) : null;
        return new Recipe(sampler, steps, cfg, config + " (pipeline block)");
    }

    /**
     * The toolkit's name for the recipe's sampler. "dpm-solver++" is what PixArt's own dpm_solver.py runs
     * (DPM-Solver++, multistep, order 2) — the toolkit's {@code dpm-solver}.
     */
    static String samplerName(Path config, String name) {
        if (Samplers.NAMES.contains(name)) return name;
        if (name.equals("dpm-solver++")) return "dpm-solver";
        throw new IllegalArgumentException(config + ": pipeline.sampler '" + name + "' is not a sampler this toolkit runs (known: "
                + String.join(", ", Samplers.NAMES) + ", dpm-solver++)");
    }

    private static int positive(Path config, String field, JsonNode value) {
        if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < 1) {
            throw new IllegalArgumentException(config + ": pipeline." + field + " must be a positive integer, got " + value);
        }
        return value.asInt();
    }

    private static double number(Path config, String field, JsonNode value) {
        if (!value.isNumber() || !Double.isFinite(value.asDouble())) {
            throw new IllegalArgumentException(config + ": pipeline." + field + " must be a finite number, got " + value);
        }
        return value.asDouble();
    }
}
