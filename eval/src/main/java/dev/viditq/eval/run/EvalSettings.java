package dev.viditq.eval.run;

/**
 * How an evaluation samples. Null sampler, steps or cfg take the model's {@link Recipe}, then the family default.
 *
 * <p>Seeds: prompts run in batches of {@code batch} consecutive prompts; the batch starting at prompt {@code i}
 * runs with seed {@code seed + i}, its noise drawn for the whole batch in prompt order. The noise of a prompt
 * therefore depends on the batch size (except for the first prompt of each batch, which gets exactly the noise
 * of {@code ./viditq generate --seed (seed + i)}); a model and its reference are always run with the same batches.
 *
 * @param batch prompts per forward pass (each forward also doubles the batch for classifier-free guidance)
 * @param height output height in pixels, null for the model's (with width)
 * @param width  output width in pixels, null for the model's
 * @param frames frames of a video model, null for the model's
 */
public record EvalSettings(String sampler, Integer steps, Double cfgScale, long seed, int batch, Integer height, Integer width,
                           Integer frames) {
    /** Settings at the model's own size. */
    public EvalSettings(String sampler, Integer steps, Double cfgScale, long seed, int batch) {
        this(sampler, steps, cfgScale, seed, batch, null, null, null);
    }

    public EvalSettings {
        if ((height == null) != (width == null)) throw new IllegalArgumentException("give both height and width, or neither");
        if (batch < 1) throw new IllegalArgumentException("the batch size must be at least 1, got " + batch);
        if (steps != null && steps < 1) throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        if (cfgScale != null && !Double.isFinite(cfgScale)) throw new IllegalArgumentException("cfg scale must be finite, got " + cfgScale);
    }

    /** These settings with unset fields taken from {@code recipe}. */
    public EvalSettings withDefaults(Recipe recipe) {
        return new EvalSettings(sampler != null ? sampler : recipe.sampler(), steps != null ? steps : recipe.steps(),
                cfgScale != null ? cfgScale : recipe.cfgScale(), seed, batch, height, width, frames);
    }
}
