package dev.viditq.nn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.CfgConvention;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.ConfigLimits;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.DiffusersSchedulerConfig;
import dev.viditq.nn.sampling.FiniteLatents;
import dev.viditq.nn.sampling.Prediction;
import dev.viditq.nn.sampling.Sampler;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.Captions;
import dev.viditq.nn.text.TextEncoder;
import dev.viditq.nn.vae.LatentDecoder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Text (or class) → image or video, as the model's family samples it ({@link ModelFamily}). {@link #generate} reads
 * top to bottom: the request is resolved once against the family's defaults ({@link #prepare}), then embedded (the
 * prompts and the unconditional text go through the text encoder in one batch), denoised from seeded noise with
 * classifier-free guidance in the family's convention, and decoded by the VAE (a pixel-space sample is already
 * pixels).
 *
 * <pre>{@code
 * try (GenerationPipeline p = GenerationPipeline.load(Path.of("models/pixart-tiny"))) {
 *     Generation g = p.generate(GenerationRequest.builder().prompt("a red fox").seed(1).build(), StepListener.NONE);
 *     // g.pixels(): [1, 3, H, W] (images) or [1, 3, F, H, W] (videos), values in [-1, 1]
 * }
 * }</pre>
 *
 * <p>The run is a function of the request: the seed drives one {@link SeededGaussian} stream (the initial noise,
 * then each stochastic step's noise), so the same request gives the same bytes whatever the thread count.
 */
public final class GenerationPipeline implements AutoCloseable {
    /** The family's own settings, used where a request leaves a field null. */
    public record Defaults(String sampler, int steps, double cfgScale, int height, int width, int frames, int captionTokens) {}

    /**
     * The settings a run actually used.
     *
     * @param fps       the frame rate the model is conditioned on; 0 for a family that takes none
     * @param flowShift the sampler's timestep shift (1: none)
     */
    public record Settings(String sampler, int steps, double cfgScale, long seed, int height, int width, int frames,
                           CfgConvention cfg, double fps, double flowShift) {}

    /**
     * @param latents the sampler's output [B, C, (F,) h, w]
     * @param pixels  [B, 3, H, W] or [B, 3, F, H, W] in [-1, 1] (not yet clamped)
     */
    public record Generation(Tensor latents, Tensor pixels, Settings settings) {}

    /**
     * A request resolved against the model: its settings, the sampler that runs them and the caption length. Made
     * once per request by {@link #prepare}; {@link #generate(Run, StepListener)} runs it.
     */
    public record Run(GenerationRequest request, Settings settings, Sampler sampler, int captionTokens) {}

    private final Denoiser model;
    private final ModelFamily family;
    private final LatentDecoder vae;
    private final PromptEncoder text;
    private final JsonNode schedulerConfig;
    private final PipelineBlock block;
    private final List<AutoCloseable> owned;

    /**
     * @param vae             null for a pixel-space model (3 input channels)
     * @param text            null when prompts are not supported (class-conditional, or captions given as embeddings)
     * @param schedulerConfig a diffusers scheduler_config.json, or null
     */
    public GenerationPipeline(Denoiser model, LatentDecoder vae, PromptEncoder text, JsonNode schedulerConfig) {
        this(model, vae, text, schedulerConfig, PipelineBlock.NONE, List.of());
    }

    /** @param block the model config's "pipeline" block: default size, frames, frame rate and timestep shift */
    public GenerationPipeline(Denoiser model, LatentDecoder vae, PromptEncoder text, JsonNode schedulerConfig, PipelineBlock block) {
        this(model, vae, text, schedulerConfig, block, List.of());
    }

    private GenerationPipeline(Denoiser model, LatentDecoder vae, PromptEncoder text, JsonNode schedulerConfig,
                               PipelineBlock block, List<AutoCloseable> owned) {
        this.model = model;
        this.family = model.info().family();
        this.vae = vae;
        this.text = text;
        this.schedulerConfig = schedulerConfig;
        this.block = block;
        this.owned = owned;
        ModelInfo info = model.info();
        if (block.timestepShift() != null && family.prediction() == Prediction.EPSILON) {
            throw new IllegalArgumentException("pipeline.timestep_shift is set, but this " + family + " model is not a "
                    + "flow-matching model (it predicts noise); remove the key");
        }
        if (block.fps() != null && !family.videoConditions()) {
            throw new IllegalArgumentException("pipeline.fps is set, but this " + family + " model is not conditioned on a "
                    + "frame rate; remove the key");
        }
        if (vae == null && info.latentChannels() != 3) {
            throw new IllegalArgumentException("the model takes " + info.latentChannels() + "-channel latents but the folder has "
                    + "no vae/ to decode them (only 3-channel pixel-space models run without a VAE)");
        }
        if (vae != null && vae.latentChannels() != info.latentChannels()) {
            throw new IllegalArgumentException("the VAE has " + vae.latentChannels() + " latent channels, the model takes "
                    + info.latentChannels());
        }
    }

    /**
     * Loads every part the model folder has (see {@link ModelFolder}), the VAE as the model's family opens it, and
     * the "pipeline" block of the model's config.json ({@link PipelineBlock}); the pipeline owns and closes them.
     */
    public static GenerationPipeline load(Path dir) {
        ModelFolder folder = ModelFolder.resolve(dir);
        PipelineBlock block = PipelineBlock.read(folder.denoiser().resolve("config.json"));
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Denoiser model = ModelLoader.load(folder.denoiser());
            opened.add(model);
            LatentDecoder vae = folder.vae() == null ? null : model.info().family().openVae(folder.vae());
            if (vae != null) opened.add(vae);
            PromptEncoder text = null;
            if (folder.textEncoder() != null && model.info().captionChannels() > 0) {
                if (folder.tokenizer() == null) throw new IllegalArgumentException(dir + ": text_encoder/ but no tokenizer (tokenizer/ or tokenizer.json)");
                TextEncoder encoder = TextEncoder.load(folder.textEncoder(), folder.tokenizer());
                opened.add(encoder);
                text = PromptEncoder.of(encoder);
            }
            JsonNode scheduler = folder.schedulerConfig() == null ? null : readJson(folder.schedulerConfig());
            return new GenerationPipeline(model, vae, text, scheduler, block, List.copyOf(opened));
        } catch (RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            return DiffusersSchedulerConfig.parse(Files.readString(file));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public ModelInfo info() {
        return model.info();
    }

    public Denoiser model() {
        return model;
    }

    public boolean acceptsPrompts() {
        return text != null;
    }

    /** Pixel-to-latent factor: the VAE's downscale, 1 for pixel-space models. */
    public int pixelsPerLatent() {
        return vae == null ? 1 : vae.pixelsPerLatent();
    }

    /**
     * The family's sampling defaults (a diffusers scheduler config in the folder picks the sampler) and sizes: the
     * config's pipeline block's, else the model's config's, else the official pipeline's where the config leaves them
     * open (Wan: 480×832, 81 frames).
     */
    public Defaults defaults() {
        ModelInfo info = info();
        int height = info.sampleSize() * pixelsPerLatent(), width = height;
        int frames = info.video() ? info.frames() : 1;
        ModelFamily.VideoSize official = family.defaultVideo();
        if (official != null && height == 0) {
            height = official.height();
            width = official.width();
        }
        if (official != null && frames == 0) frames = official.frames();
        if (block.height() != null) height = block.height();
        if (block.width() != null) width = block.width();
        if (block.frames() != null) frames = block.frames();
        ModelFamily.Sampling sampling = family.sampling();
        String scheduler = Samplers.forSchedulerConfig(schedulerConfig);
        return new Defaults(scheduler != null ? scheduler : sampling.sampler(), sampling.steps(), sampling.cfgScale(), height,
                width, frames, captionTokens());
    }

    /** The learned null caption's length, else the config's model_max_length, else the family's caption length. */
    private int captionTokens() {
        int configured = info().captionTokens();
        return model.nullCaption().map(t -> t.size(0)).orElse(configured > 0 ? configured : family.defaultCaptionTokens());
    }

    /** The request's settings with the defaults filled in and checked against the model. */
    public Settings resolve(GenerationRequest req) {
        return prepare(req).settings();
    }

    /**
     * Resolves the request once: the defaults filled in, everything checked against the model (a sampler the model
     * cannot drive or a bad scheduler config fails here, before any work), the sampler built.
     */
    public Run prepare(GenerationRequest req) {
        Defaults d = defaults();
        ModelInfo info = info();
        String sampler = req.sampler() != null ? req.sampler() : d.sampler();
        if (!Samplers.NAMES.contains(sampler)) {
            throw new IllegalArgumentException("unknown sampler '" + sampler + "' (known: " + String.join(", ", Samplers.NAMES) + ")");
        }
        int steps = req.steps() != null ? req.steps() : d.steps();
        if (steps < 1) throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        double cfg = req.cfgScale() != null ? req.cfgScale() : d.cfgScale();
        if (!Double.isFinite(cfg)) throw new IllegalArgumentException("cfg scale must be a finite number, got " + cfg);
        int height = req.height() != null ? req.height() : d.height();
        int width = req.width() != null ? req.width() : d.width();
        if (height == 0 || width == 0) {
            throw new IllegalArgumentException("the model's config leaves its sample size open: give the size (--size HxW)");
        }
        int multiple = family.padsToPatches() ? pixelsPerLatent() : pixelsPerLatent() * info.patchSize();
        if (height < multiple || width < multiple || height % multiple != 0 || width % multiple != 0) {
            throw new IllegalArgumentException("size " + height + "x" + width + " does not fit this model: height and width must be "
                    + "positive multiples of " + multiple + " (" + (family.padsToPatches() ? "VAE factor " + pixelsPerLatent()
                    + "; the model pads to whole patches" : (vae == null ? "" : "VAE factor " + pixelsPerLatent() + " × ")
                    + "patch size " + info.patchSize()) + ")");
        }
        checkConditioningKind(req);
        int frames = req.frames() != null ? req.frames() : d.frames();
        if (!info.video() && frames != 1) throw new IllegalArgumentException("this is an image model: frames must be 1, got " + frames);
        if (frames == 0 && req.frames() == null) {
            throw new IllegalArgumentException("the model's config leaves its frame count open: give the frames (--frames N)");
        }
        if (frames < 1) throw new IllegalArgumentException("frames must be at least 1, got " + frames);
        // a video VAE with temporal compression takes only some clip lengths: its latent frames say which
        ConfigLimits.checkGeneration(info, req.batch(), height, width, frames, latentFrames(frames), pixelsPerLatent(),
                vae == null ? 0 : vae.fullResolutionChannels(), "size and frames (--size, --frames)");
        Settings settings = new Settings(sampler, steps, cfg, req.seed(), height, width, frames, info.guidance(sampler),
                conditioningFps(req, frames), flowShift(height, width, frames));
        return new Run(req, settings, sampler(settings), d.captionTokens());
    }

    /** The request's frame rate, else the config's pipeline.fps, else the family's; 0 for a family that takes none. */
    private double conditioningFps(GenerationRequest req, int frames) {
        if (!family.videoConditions()) return 0;
        double fps = req.fps() != null ? req.fps() : block.fps() != null ? block.fps() : family.conditioningFps(frames);
        if (!(fps > 0) || Double.isInfinite(fps)) throw new IllegalArgumentException("fps must be a positive number, got " + fps);
        return fps;
    }

    /** The config's pipeline.timestep_shift, else the family's rule for this output size. */
    private double flowShift(int height, int width, int frames) {
        if (block.timestepShift() != null) return block.timestepShift();
        try {
            return family.flowShift(height, width, frames);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "; or state the shift as pipeline.timestep_shift in the "
                    + "model's config.json", e);
        }
    }

    /** Class labels for class-conditional models, text or caption embeddings for the others; prompts need a text encoder. */
    private void checkConditioningKind(GenerationRequest req) {
        ModelInfo info = info();
        if (family.classConditional() && req.classLabels() == null) {
            throw new IllegalArgumentException("this " + info.family() + " model is class-conditional: give class labels, not text");
        }
        if (!family.classConditional() && req.classLabels() != null) {
            throw new IllegalArgumentException("this " + info.family() + " model takes text, not class labels");
        }
        if (req.prompts() != null && text == null) {
            throw new IllegalArgumentException("this model folder has no text encoder (text_encoder/ + tokenizer): give caption "
                    + "embeddings instead of prompts");
        }
        checkImage(req);
    }

    /**
     * An image-to-video model needs the first frame; a model without the image condition takes none. Image-to-video
     * generation itself needs the CLIP image encoder that turns the frame into the states the model attends to, which
     * is not implemented: it is refused here, before any work (the I2V denoiser runs given those states).
     */
    private void checkImage(GenerationRequest req) {
        ModelInfo info = info();
        if (!info.imageToVideo()) {
            if (req.image() != null) {
                throw new IllegalArgumentException("this " + family + " model generates from text alone; an image (--image) is for "
                        + "an image-to-video model");
            }
            return;
        }
        if (req.image() == null) {
            throw new IllegalArgumentException("this " + family + " model is image-to-video: give its first frame (--image FILE)");
        }
        throw new UnsupportedOperationException("image-to-video generation needs the CLIP image encoder (image_encoder/), which "
                + "viditq does not implement yet; the " + family + " image-to-video transformer itself loads and runs (parity, "
                + "forward with CLIP image states), text-to-video models generate end to end");
    }

    /** Runs the request; {@code listener} hears every sampler step. */
    public Generation generate(GenerationRequest req, StepListener listener) {
        return generate(prepare(req), listener);
    }

    /** Runs a prepared request: embed, denoise, decode. */
    public Generation generate(Run run, StepListener listener) {
        Conditioning[] conditioning = embed(run);
        Tensor latents = denoise(run, conditioning, listener);
        Tensor pixels = decode(latents, run.settings().frames());
        FiniteLatents.require(pixels, "the decoded output");
        return new Generation(latents, pixels, run.settings());
    }

    // ---- embed: [conditional, unconditional] conditioning of the batch

    private Conditioning[] embed(Run run) {
        Conditioning[] pair = family.classConditional() ? classLabels(run.request()) : captions(run);
        return withSizeConditions(pair, run.settings(), run.request().batch());
    }

    /** The requested labels and the null class. */
    private Conditioning[] classLabels(GenerationRequest req) {
        int classes = info().numClasses();
        int[] nulls = new int[req.batch()];
        Arrays.fill(nulls, classes);
        return new Conditioning[]{Conditioning.classLabels(labels(req.classLabels(), classes)),
                Conditioning.classLabels(labels(nulls, classes + 1))};
    }

    private static Tensor labels(int[] labels, int bound) {
        Tensor t = Tensor.zeros(DType.I64, labels.length);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= bound) {
                throw new IllegalArgumentException("class label " + labels[i] + " is outside [0, " + (bound - 1) + "]");
            }
            t.setFloat(i, labels[i]);
        }
        return t;
    }

    /**
     * The captions and their unconditional counterparts, masked or truncated by the family's rule. Prompts and the
     * unconditional text (the negative prompt, or "" for a model without a learned null caption) are encoded in
     * one call of the text encoder.
     */
    private Conditioning[] captions(Run run) {
        GenerationRequest req = run.request();
        int b = req.batch();
        String negativeText = req.negativeCaptions() == null ? negativeText(req) : null;
        Captions cond, uncond = null;
        if (req.prompts() != null) {
            List<String> texts = new ArrayList<>(req.prompts());
            if (negativeText != null) texts.add(negativeText);
            Captions encoded = encode(texts, run.captionTokens());
            cond = encoded.rows(0, b);
            if (negativeText != null) uncond = encoded.rows(b, b + 1);
        } else {
            cond = req.captions();
            if (negativeText != null) uncond = encode(List.of(negativeText), cond.length());
        }
        checkWidth(cond, "caption embeddings");
        if (uncond == null) uncond = req.negativeCaptions() != null ? req.negativeCaptions() : nullCaption(cond);
        uncond = oneRowPerSample(uncond, b);
        checkWidth(uncond, "negative caption embeddings");
        if (uncond.length() < cond.length()) {
            throw new IllegalArgumentException("the unconditional caption has " + uncond.length() + " tokens, the caption "
                    + cond.length() + "; both halves of the guidance batch need the same length");
        }
        Captions[] pair = family.masking().apply(cond, uncond);
        return new Conditioning[]{Conditioning.caption(pair[0].embeddings(), pair[0].mask()),
                Conditioning.caption(pair[1].embeddings(), pair[1].mask())};
    }

    /**
     * The text of the unconditional half: the negative prompt, else "" where the model has no learned null caption
     * (diffusers pipelines encode ""); null when the learned null caption serves (original PixArt / Open-Sora).
     */
    private String negativeText(GenerationRequest req) {
        if (req.negativePrompt() != null) return req.negativePrompt();
        if (model.nullCaption().isPresent()) return null;
        if (text == null) {
            throw new IllegalArgumentException("this " + family.layout() + " model guides with the embedding of \"\": give negative "
                    + "caption embeddings (negative_caption in the embeddings file) or a model folder with a text encoder");
        }
        return "";
    }

    /** The learned null caption for every sample, with the prompt's mask (the original code reuses it). */
    private Captions nullCaption(Captions cond) {
        Tensor y = model.nullCaption().orElseThrow().toF32();
        if (y.dim(0) != cond.length()) {
            throw new IllegalArgumentException("the model's null caption has " + y.dim(0) + " tokens but the captions have "
                    + cond.length() + "; give captions of " + y.dim(0) + " tokens");
        }
        return new Captions(Batches.repeat(y, cond.batch()), cond.mask(), cond.validLengths());
    }

    /** Unconditional captions with a row per sample: as given, or one row repeated. */
    private static Captions oneRowPerSample(Captions n, int b) {
        if (n.batch() == b) return n;
        if (n.batch() != 1) throw new IllegalArgumentException("negative caption embeddings have " + n.batch() + " rows for a batch of " + b);
        int[] counts = new int[b];
        Arrays.fill(counts, n.validLength(0));
        return new Captions(Batches.repeat(n.embeddings().reshape(n.length(), n.width()), b),
                n.mask() == null ? null : Batches.repeat(n.mask().reshape(n.length()), b), counts);
    }

    private Captions encode(List<String> prompts, int length) {
        if (text == null) {
            throw new IllegalArgumentException("this model folder has no text encoder (text_encoder/ + tokenizer): give caption "
                    + "embeddings instead of prompts");
        }
        return text.encode(prompts, length);
    }

    private void checkWidth(Captions c, String what) {
        if (c.width() != info().captionChannels()) {
            throw new IllegalArgumentException(what + " are " + c.width() + " wide, the model takes " + info().captionChannels());
        }
    }

    /** PixArt's micro-conditions and Open-Sora 1.2's video conditions, the same for both halves. */
    private Conditioning[] withSizeConditions(Conditioning[] pair, Settings s, int b) {
        Conditioning cond = pair[0], uncond = pair[1];
        if (family.videoConditions()) {
            Tensor hw = Batches.repeat(Tensor.of(new float[]{s.height(), s.width()}, 2), b);
            Tensor fps = Batches.repeat(Tensor.of(new float[]{(float) s.fps()}, 1), b).reshape(b);
            cond = cond.withVideoConditions(hw, fps);
            uncond = uncond.withVideoConditions(hw, fps);
        }
        if (info().microConditions()) {
            Tensor hw = Batches.repeat(Tensor.of(new float[]{s.height(), s.width()}, 2), b);
            Tensor ar = Batches.repeat(Tensor.of(new float[]{(float) s.height() / s.width()}, 1), b);
            cond = cond.withMicroConditions(hw, ar);
            uncond = uncond.withMicroConditions(hw, ar);
        }
        return new Conditioning[]{cond, uncond};
    }

    // ---- denoise

    /** The sampler's loop from seeded noise, with classifier-free guidance in the family's convention. */
    private Tensor denoise(Run run, Conditioning[] conditioning, StepListener listener) {
        Settings s = run.settings();
        ModelInfo info = info();
        int b = run.request().batch();
        int h = s.height() / pixelsPerLatent(), w = s.width() / pixelsPerLatent();
        long[] shape = info.video() ? new long[]{b, info.latentChannels(), latentFrames(s.frames()), h, w}
                : new long[]{b, info.latentChannels(), h, w};
        SeededGaussian rng = new SeededGaussian(s.seed());
        Tensor noise = rng.next(shape);
        GuidedModel guided = new GuidedModel(model, conditioning[0], conditioning[1], s.cfgScale(), s.cfg(),
                run.request().batching());
        return run.sampler().sample(guided, noise, s.steps(), rng, FiniteLatents.checking(listener));
    }

    private int latentFrames(int frames) {
        return vae == null ? frames : vae.latentFrames(frames);
    }

    /** The sampler of the settings, with their flow shift; it must expect what the family predicts. */
    private Sampler sampler(Settings s) {
        Sampler sampler = Samplers.create(s.sampler(), new Samplers.Options(info().learnedSigma(), s.flowShift(), schedulerConfig));
        if (sampler.prediction() != family.prediction()) {
            throw new IllegalArgumentException("sampler " + s.sampler() + " needs a model predicting " + sampler.prediction()
                    + ", but " + family + " predicts " + family.prediction());
        }
        return sampler;
    }

    // ---- decode

    private Tensor decode(Tensor latents, int frames) {
        return vae == null ? latents : vae.decodeLatents(latents, info().video() ? frames : 1);
    }

    @Override
    public void close() {
        closeAll(owned);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // closing releases mappings; a failure here has nothing left to protect
            }
        }
    }
}
