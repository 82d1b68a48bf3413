package dev.viditq.quant.calib;

import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GenerationRequest;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.StepListener;

import java.util.List;

/**
 * Calibration over text prompts with a complete model folder ({@link GenerationPipeline}): exactly the float
 * generation a user runs, prompt {@code i} with seed {@code seed + i}.
 */
public final class PipelineDriver implements CalibrationDriver {
    private final GenerationPipeline pipeline;
    private final List<String> prompts;
    private final GenerationRequest.Builder template;
    private final Calibration.Settings settings;
    private final long seed;

    /**
     * @param steps, cfg, sampler, height, width, frames null for the model's defaults
     */
    public PipelineDriver(GenerationPipeline pipeline, List<String> prompts, Integer steps, Double cfg, String sampler,
                          Integer height, Integer width, Integer frames, long seed, GuidedModel.Batching batching) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("no calibration prompts");
        if (!pipeline.acceptsPrompts()) {
            throw new IllegalArgumentException("this model folder has no text encoder, so it cannot take text prompts; "
                    + "calibrate with class labels or caption embeddings instead");
        }
        this.pipeline = pipeline;
        this.prompts = List.copyOf(prompts);
        this.seed = seed;
        this.template = GenerationRequest.builder().steps(steps).cfgScale(cfg).sampler(sampler).size(height, width)
                .frames(frames).batching(batching);
        GenerationPipeline.Settings s = pipeline.resolve(request(0));
        this.settings = new Calibration.Settings(s.sampler(), s.steps(), s.cfgScale(), seed, batching.name(), s.height(),
                s.width(), s.frames());
    }

    private GenerationRequest request(int index) {
        return template.prompt(prompts.get(index)).seed(seed + index).build();
    }

    @Override
    public Denoiser model() {
        return pipeline.model();
    }

    @Override
    public List<String> prompts() {
        return prompts;
    }

    @Override
    public Calibration.Settings settings() {
        return settings;
    }

    @Override
    public void run(int index, StepListener listener) {
        pipeline.generate(request(index), listener);
    }
}
