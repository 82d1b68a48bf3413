package dev.viditq.nn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.StrictJson;

import java.nio.file.Path;

/**
 * What the optional {@code "pipeline"} block of a denoiser's config.json says about the output and the sampler's
 * schedule, as far as {@link GenerationPipeline} uses it (docs/MODEL_FORMAT.md). Each field is null when the block
 * does not state it; then the model's config and the family's rules decide. (The sampler, steps and guidance scale of
 * the block are the evaluation recipe's, read by the eval module.)
 *
 * @param height        output height in pixels
 * @param width         output width in pixels
 * @param frames        frames of a video model
 * @param fps           the frame rate a model conditioned on it (Open-Sora 1.2) is given when the request states none
 * @param timestepShift a flow-matching sampler's timestep shift, replacing the family's rule by output size (Open-Sora
 *                      1.2's is undefined for 2 to 16 frames; a small model trained at another size has its own)
 */
public record PipelineBlock(Integer height, Integer width, Integer frames, Double fps, Double timestepShift) {
    public static final PipelineBlock NONE = new PipelineBlock(null, null, null, null, null);

    /** The block of {@code config} (a denoiser's config.json); {@link #NONE} when there is none. */
    public static PipelineBlock read(Path config) {
        JsonNode block = StrictJson.readConfig(config).path("pipeline");
        if (block.isMissingNode() || block.isNull()) return NONE;
        if (!block.isObject()) throw new IllegalArgumentException(config + ": \"pipeline\" must be an object, is " + block);
        return new PipelineBlock(positiveInt(config, block, "height"), positiveInt(config, block, "width"),
                positiveInt(config, block, "frames"), positiveNumber(config, block, "fps"),
                positiveNumber(config, block, "timestep_shift"));
    }

    private static Integer positiveInt(Path config, JsonNode block, String field) {
        JsonNode v = block.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw new IllegalArgumentException(config + ": pipeline." + field + " must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    private static Double positiveNumber(Path config, JsonNode block, String field) {
        JsonNode v = block.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
            throw new IllegalArgumentException(config + ": pipeline." + field + " must be a positive number, got " + v);
        }
        return v.asDouble();
    }
}
