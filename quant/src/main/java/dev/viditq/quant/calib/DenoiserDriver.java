package dev.viditq.quant.calib;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.CfgConvention;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.Sampler;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.Captions;

import java.util.ArrayList;
import java.util.List;

/**
 * Calibration of a bare denoiser (a folder without VAE or text encoder, such as the golden test models): the
 * sampling loop in latent space, no decode. Inputs are class labels (class-conditional models) or caption embeddings
 * (text models; the unconditional half is the given negative captions or the model's learned null caption).
 * Prompt {@code i} starts from the noise of seed {@code seed + i}, one sample per prompt.
 */
public final class DenoiserDriver implements CalibrationDriver {
    /** Pixels per latent cell assumed for micro-conditions (every supported VAE downsamples by 8). */
    private static final int PIXELS_PER_LATENT = 8;

    /** One calibration input: a class label, or caption embeddings [1, L, D] (+ optional negative). */
    public sealed interface Input permits ClassLabel, Caption {}

    public record ClassLabel(int label) implements Input {}

    public record Caption(Captions caption, Captions negative, String description) implements Input {}

    private final Denoiser model;
    private final List<Input> inputs;
    private final List<String> descriptions = new ArrayList<>();
    private final Sampler sampler;
    private final CfgConvention convention;
    private final Calibration.Settings settings;
    private final GuidedModel.Batching batching;
    private final long[] latentShape;

    /**
     * @param latentSize latent height = width (null: the model's sample size)
     * @param frames     video frames (null: the model's)
     */
    public DenoiserDriver(Denoiser model, List<Input> inputs, String samplerName, int steps, double cfg, long seed,
                          Integer latentSize, Integer frames, GuidedModel.Batching batching) {
        if (inputs.isEmpty()) throw new IllegalArgumentException("no calibration inputs");
        if (steps < 1) throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        ModelInfo info = model.info();
        this.model = model;
        this.inputs = List.copyOf(inputs);
        this.batching = batching;
        int side = latentSize != null ? latentSize : info.sampleSize();
        int f = info.video() ? (frames != null ? frames : info.frames()) : 1;
        if (side % info.patchSize() != 0) {
            throw new IllegalArgumentException("latent size " + side + " is not a multiple of the patch size " + info.patchSize());
        }
        this.latentShape = info.video() ? new long[]{1, info.inChannels(), f, side, side} : new long[]{1, info.inChannels(), side, side};
        ModelFamily family = info.family();
        double shift = family.flowShift(side * PIXELS_PER_LATENT, side * PIXELS_PER_LATENT, f);
        this.sampler = Samplers.create(samplerName, new Samplers.Options(info.learnedSigma(), shift, null));
        if (sampler.prediction() != family.prediction()) {
            throw new IllegalArgumentException("sampler " + samplerName + " needs a model predicting " + sampler.prediction()
                    + ", but " + family + " predicts " + family.prediction());
        }
        this.convention = info.guidance(samplerName);
        this.settings = new Calibration.Settings(samplerName, steps, cfg, seed, batching.name(), side, side, f);
        for (Input in : inputs) descriptions.add(describe(in));
    }

    private static String describe(Input in) {
        return switch (in) {
            case ClassLabel c -> "class " + c.label();
            case Caption c -> c.description();
        };
    }

    @Override
    public Denoiser model() {
        return model;
    }

    @Override
    public List<String> prompts() {
        return descriptions;
    }

    @Override
    public Calibration.Settings settings() {
        return settings;
    }

    @Override
    public void run(int index, StepListener listener) {
        Conditioning[] pair = conditioning(inputs.get(index));
        SeededGaussian rng = new SeededGaussian(settings.seed() + index);
        Tensor noise = rng.next(latentShape);
        GuidedModel guided = new GuidedModel(model, pair[0], pair[1], settings.cfgScale(), convention, batching);
        sampler.sample(guided, noise, settings.steps(), rng, listener);
    }

    /** [conditional, unconditional] for one sample. */
    private Conditioning[] conditioning(Input in) {
        ModelInfo info = model.info();
        Conditioning cond, uncond;
        switch (in) {
            case ClassLabel c -> {
                if (info.numClasses() <= 0) throw new IllegalArgumentException("this " + info.family() + " model takes captions, not class labels");
                if (c.label() < 0 || c.label() >= info.numClasses()) {
                    throw new IllegalArgumentException("class label " + c.label() + " outside [0, " + (info.numClasses() - 1) + "]");
                }
                cond = Conditioning.classLabels(label(c.label()));
                uncond = Conditioning.classLabels(label(info.numClasses()));
            }
            case Caption c -> {
                if (info.captionChannels() <= 0) throw new IllegalArgumentException("this " + info.family() + " model takes class labels, not captions");
                if (c.caption().width() != info.captionChannels()) {
                    throw new IllegalArgumentException("caption embeddings are " + c.caption().width() + " wide, the model takes " + info.captionChannels());
                }
                Captions neg = c.negative() != null ? c.negative() : nullCaption(c.caption());
                cond = Conditioning.caption(c.caption().embeddings(), c.caption().mask());
                uncond = Conditioning.caption(neg.embeddings(), neg.mask() != null ? neg.mask() : c.caption().mask());
            }
        }
        if (info.family().videoConditions()) {
            Tensor hw = Tensor.of(new float[]{settings.height() * PIXELS_PER_LATENT, settings.width() * PIXELS_PER_LATENT}, 1, 2);
            Tensor fps = Tensor.of(new float[]{info.family().conditioningFps(settings.frames())}, 1);
            cond = cond.withVideoConditions(hw, fps);
            uncond = uncond.withVideoConditions(hw, fps);
        }
        if (info.microConditions()) {
            float h = settings.height() * PIXELS_PER_LATENT, w = settings.width() * PIXELS_PER_LATENT;
            Tensor hw = Tensor.of(new float[]{h, w}, 1, 2);
            Tensor ar = Tensor.of(new float[]{h / w}, 1, 1);
            cond = cond.withMicroConditions(hw, ar);
            uncond = uncond.withMicroConditions(hw, ar);
        }
        return new Conditioning[]{cond, uncond};
    }

    private Captions nullCaption(Captions caption) {
        Tensor y = model.nullCaption().orElseThrow(() -> new IllegalArgumentException(
                "this model has no learned null caption: give negative caption embeddings for the unconditional half"));
        if (y.dim(0) != caption.length()) {
            throw new IllegalArgumentException("the model's null caption has " + y.dim(0) + " tokens, the captions " + caption.length());
        }
        return new Captions(y.toF32().reshape(1, y.dim(0), y.dim(1)), caption.mask());
    }

    private static Tensor label(int label) {
        Tensor t = Tensor.zeros(DType.I64, 1);
        t.setFloat(0, label);
        return t;
    }
}
