package dev.viditq.nn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.ConfigLimits;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.DiffusersSchedulerConfig;
import dev.viditq.nn.sampling.FiniteLatents;
import dev.viditq.nn.sampling.Prediction;
import dev.viditq.nn.sampling.RectifiedFlowSampler;
import dev.viditq.nn.sampling.Sampler;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.TextEncoder;
import dev.viditq.nn.vae.AutoencoderKL;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Text (or class) → image or video: encode the prompt, sample the latent with classifier-free guidance in the
 * family's convention, decode it with the VAE (or map a pixel-space sample straight to pixels).
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
    /** Caption length when neither the model nor its null caption states one (PixArt-α, Latte, Open-Sora 1.0). */
    private static final int DEFAULT_CAPTION_TOKENS = 120;
    /** The frame rate Open-Sora 1.2 conditions on by default (its inference configs' fps = 24). */
    private static final float OPEN_SORA_FPS = 24f;

    /** The family's own settings, used where a request leaves a field null. */
    public record Defaults(String sampler, int steps, double cfgScale, int height, int width, int frames, int captionTokens) {}

    /** The settings a run actually used. */
    public record Settings(String sampler, int steps, double cfgScale, long seed, int height, int width, int frames,
                           CfgConvention cfg) {}

    /**
     * @param latents the sampler's output [B, C, (F,) h, w]
     * @param pixels  [B, 3, H, W] or [B, 3, F, H, W] in [-1, 1] (not yet clamped)
     */
    public record Generation(Tensor latents, Tensor pixels, Settings settings) {}

    private final Denoiser model;
    private final AutoencoderKL vae;
    private final PromptEncoder text;
    private final JsonNode schedulerConfig;
    private final List<AutoCloseable> owned;

    /**
     * @param vae             null for a pixel-space model (3 input channels)
     * @param text            null when prompts are not supported (class-conditional, or captions given as embeddings)
     * @param schedulerConfig a diffusers scheduler_config.json, or null
     */
    public GenerationPipeline(Denoiser model, AutoencoderKL vae, PromptEncoder text, JsonNode schedulerConfig) {
        this(model, vae, text, schedulerConfig, List.of());
    }

    private GenerationPipeline(Denoiser model, AutoencoderKL vae, PromptEncoder text, JsonNode schedulerConfig,
                               List<AutoCloseable> owned) {
        this.model = model;
        this.vae = vae;
        this.text = text;
        this.schedulerConfig = schedulerConfig;
        this.owned = owned;
        ModelInfo info = model.info();
        if (vae == null && info.inChannels() != 3) {
            throw new IllegalArgumentException("the model takes " + info.inChannels() + "-channel latents but the folder has "
                    + "no vae/ to decode them (only 3-channel pixel-space models run without a VAE)");
        }
        if (vae != null && vae.config().latentChannels() != info.inChannels()) {
            throw new IllegalArgumentException("the VAE has " + vae.config().latentChannels() + " latent channels, the model takes "
                    + info.inChannels());
        }
    }

    /** Loads every part the model folder has (see {@link ModelFolder}); the pipeline owns and closes them. */
    public static GenerationPipeline load(Path dir) {
        ModelFolder folder = ModelFolder.resolve(dir);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Denoiser model = ModelLoader.load(folder.denoiser());
            opened.add(model);
            AutoencoderKL vae = folder.vae() == null ? null : AutoencoderKL.load(folder.vae());
            if (vae != null) opened.add(vae);
            PromptEncoder text = null;
            if (folder.textEncoder() != null && model.info().captionChannels() > 0) {
                if (folder.tokenizer() == null) throw new IllegalArgumentException(dir + ": text_encoder/ but no tokenizer (tokenizer/ or tokenizer.json)");
                TextEncoder encoder = TextEncoder.load(folder.textEncoder(), folder.tokenizer());
                opened.add(encoder);
                text = PromptEncoder.of(encoder);
            }
            JsonNode scheduler = folder.schedulerConfig() == null ? null : readJson(folder.schedulerConfig());
            return new GenerationPipeline(model, vae, text, scheduler, List.copyOf(opened));
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
        return vae == null ? 1 : vae.config().downscale();
    }

    public Defaults defaults() {
        ModelInfo info = info();
        int side = info.sampleSize() * pixelsPerLatent();
        int frames = info.video() ? info.frames() : 1;
        int tokens = model.nullCaption().map(t -> t.size(0))
                .orElse(info.captionTokens() > 0 ? info.captionTokens() : DEFAULT_CAPTION_TOKENS);
        String fromScheduler = schedulerConfig == null ? "" : switch (schedulerConfig.path("_class_name").asText("")) {
            case "DDIMScheduler" -> "ddim";
            case "DPMSolverMultistepScheduler" -> "dpmpp-2m";
            default -> "";
        };
        record Family(String sampler, int steps, double cfg) {}
        Family f = switch (info.family() + "/" + info.layout()) {
            case "dit/original" -> new Family("iddpm", 250, 4.0);
            case "pixart/original" -> new Family("dpm-solver", 20, 4.5);
            case "pixart/diffusers" -> new Family("dpmpp-2m", 20, 4.5);
            case "stdit/original" -> new Family("iddpm", 100, 7.0);
            case "latte/diffusers" -> new Family("ddim", 50, 7.5);
            case "stdit3/original" -> new Family("rflow", 30, 7.0);
            default -> new Family("ddim", 50, 4.5);
        };
        String sampler = fromScheduler.isEmpty() ? f.sampler() : fromScheduler;
        return new Defaults(sampler, f.steps(), f.cfg(), side, side, frames, tokens);
    }

    /** The request's settings with the defaults filled in and checked against the model. */
    public Settings resolve(GenerationRequest req) {
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
        int multiple = pixelsPerLatent() * info.patchSize();
        if (height < multiple || width < multiple || height % multiple != 0 || width % multiple != 0) {
            throw new IllegalArgumentException("size " + height + "x" + width + " does not fit this model: height and width must be "
                    + "positive multiples of " + multiple + " (" + (vae == null ? "" : "VAE factor " + pixelsPerLatent() + " × ")
                    + "patch size " + info.patchSize() + ")");
        }
        checkConditioningKind(req);
        int frames = req.frames() != null ? req.frames() : d.frames();
        if (!info.video() && frames != 1) throw new IllegalArgumentException("this is an image model: frames must be 1, got " + frames);
        if (frames == 0 && req.frames() == null) {
            throw new IllegalArgumentException("the model's config leaves its frame count open: give the frames (--frames N)");
        }
        if (frames < 1) throw new IllegalArgumentException("frames must be at least 1, got " + frames);
        ConfigLimits.checkGeneration(info, req.batch(), height, width, frames, pixelsPerLatent(),
                vae == null ? 0 : vae.config().blockOutChannels().getFirst(), "size and frames (--size, --frames)");
        Settings settings = new Settings(sampler, steps, cfg, req.seed(), height, width, frames, CfgConvention.of(info, sampler));
        sampler(settings); // a sampler the model cannot drive, or a bad scheduler config, fails here, before any work
        return settings;
    }

    /** Class labels for class-conditional models, text or caption embeddings for the others; prompts need a text encoder. */
    private void checkConditioningKind(GenerationRequest req) {
        ModelInfo info = info();
        if (info.numClasses() > 0 && req.classLabels() == null) {
            throw new IllegalArgumentException("this " + info.family() + " model is class-conditional: give class labels, not text");
        }
        if (info.numClasses() == 0 && req.classLabels() != null) {
            throw new IllegalArgumentException("this " + info.family() + " model takes text, not class labels");
        }
        if (req.prompts() != null && text == null) {
            throw new IllegalArgumentException("this model folder has no text encoder (text_encoder/ + tokenizer): give caption "
                    + "embeddings instead of prompts");
        }
    }

    /** Runs the request; {@code listener} hears every sampler step. */
    public Generation generate(GenerationRequest req, StepListener listener) {
        Settings s = resolve(req);
        ModelInfo info = info();
        Conditioning[] conditioning = conditioning(req, s);
        Sampler sampler = sampler(s);
        int b = req.batch();
        int h = s.height() / pixelsPerLatent(), w = s.width() / pixelsPerLatent();
        long[] shape = info.video() ? new long[]{b, info.inChannels(), s.frames(), h, w} : new long[]{b, info.inChannels(), h, w};
        SeededGaussian rng = new SeededGaussian(s.seed());
        Tensor noise = rng.next(shape);
        GuidedModel guided = new GuidedModel(model, conditioning[0], conditioning[1], s.cfgScale(), s.cfg(), req.batching());
        Tensor latents = sampler.sample(guided, noise, s.steps(), rng, FiniteLatents.checking(listener));
        Tensor pixels = decode(latents);
        FiniteLatents.require(pixels, "the decoded output");
        return new Generation(latents, pixels, s);
    }

    private Sampler sampler(Settings s) {
        ModelInfo info = info();
        boolean flow = info.family().equals("stdit3");
        double shift = flow ? RectifiedFlowSampler.openSoraShift(s.height(), s.width(), s.frames()) : 1.0;
        Sampler sampler = Samplers.create(s.sampler(), new Samplers.Options(info.learnedSigma(), shift, schedulerConfig));
        Prediction predicts = flow ? Prediction.VELOCITY : Prediction.EPSILON;
        if (sampler.prediction() != predicts) {
            throw new IllegalArgumentException("sampler " + s.sampler() + " needs a model predicting " + sampler.prediction()
                    + ", but " + info.family() + " predicts " + predicts);
        }
        return sampler;
    }

    private Tensor decode(Tensor latents) {
        if (vae == null) return latents;
        if (latents.rank() == 5) return Batches.batchToFrames(vae.decodeLatents(Batches.framesToBatch(latents)), latents.size(2));
        return vae.decodeLatents(latents);
    }

    /** [conditional, unconditional] conditioning of the batch. */
    private Conditioning[] conditioning(GenerationRequest req, Settings s) {
        ModelInfo info = info();
        int b = req.batch();
        Conditioning cond, uncond;
        if (info.numClasses() > 0) {
            cond = Conditioning.classLabels(labels(req.classLabels(), info.numClasses()));
            int[] nulls = new int[b];
            Arrays.fill(nulls, info.numClasses());
            uncond = Conditioning.classLabels(labels(nulls, info.numClasses() + 1));
        } else {
            Captions[] pair = captions(req);
            cond = Conditioning.caption(pair[0].embeddings(), pair[0].mask());
            uncond = Conditioning.caption(pair[1].embeddings(), pair[1].mask());
        }
        if (info.videoConditions()) { // Open-Sora 1.2: pixel size and frame rate condition the model
            Tensor hw = Batches.repeat(Tensor.of(new float[]{s.height(), s.width()}, 2), b);
            Tensor fps = Batches.repeat(Tensor.of(new float[]{OPEN_SORA_FPS}, 1), b).reshape(b);
            cond = cond.withVideoConditions(hw, fps);
            uncond = uncond.withVideoConditions(hw, fps);
        }
        if (info.microConditions()) {
            Tensor hw = Batches.repeat(Tensor.of(new float[]{s.height(), s.width()}, 2), b);
            Tensor ar = Batches.repeat(Tensor.of(new float[]{(float) s.height() / s.width()}, 1), b);
            cond = cond.withMicroConditions(hw, ar);
            uncond = uncond.withMicroConditions(hw, ar);
        }
        return new Conditioning[]{cond, uncond};
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

    /** [conditional, unconditional] captions, shaped and masked the way the family's pipeline does it. */
    private Captions[] captions(GenerationRequest req) {
        ModelInfo info = info();
        int b = req.batch();
        Captions cond = req.captions() != null ? req.captions() : encode(req.prompts(), defaults().captionTokens());
        checkWidth(cond, "caption embeddings");
        Captions uncond = negative(req, cond);
        checkWidth(uncond, "negative caption embeddings");
        if (uncond.length() < cond.length()) {
            throw new IllegalArgumentException("the unconditional caption has " + uncond.length() + " tokens, the caption "
                    + cond.length() + "; both halves of the guidance batch need the same length");
        }
        if (info.masking() == ModelInfo.Masking.TRUNCATE_ONLY) {
            // diffusers LattePipeline: one prompt is cut to its valid tokens (the negative to as many); several are
            // multiplied by their masks; the transformer itself takes no mask
            if (b == 1) {
                int keep = cond.validLength(0);
                return new Captions[]{noMask(cond.truncate(keep)), noMask(uncond.truncate(keep))};
            }
            return new Captions[]{cond.maskedToZero(), noMask(uncond.truncate(cond.length()))};
        }
        uncond = uncond.truncate(cond.length());
        if (cond.mask() == null && uncond.mask() != null) cond = new Captions(cond.embeddings(), ones(cond));
        if (uncond.mask() == null && cond.mask() != null) uncond = new Captions(uncond.embeddings(), ones(uncond));
        return new Captions[]{cond, uncond};
    }

    /**
     * The unconditional captions: given embeddings, else the negative prompt, else the learned null caption with
     * the prompt's mask (original PixArt / Open-Sora reuse it), else the embedding of "" (diffusers).
     */
    private Captions negative(GenerationRequest req, Captions cond) {
        int b = cond.batch();
        if (req.negativeCaptions() != null) {
            Captions n = req.negativeCaptions();
            if (n.batch() == b) return n;
            if (n.batch() == 1) return new Captions(Batches.repeat(n.embeddings().reshape(n.length(), n.width()), b),
                    n.mask() == null ? null : Batches.repeat(n.mask().reshape(n.length()), b));
            throw new IllegalArgumentException("negative caption embeddings have " + n.batch() + " rows for a batch of " + b);
        }
        if (req.negativePrompt() != null) return encode(Collections.nCopies(b, req.negativePrompt()), cond.length());
        if (model.nullCaption().isPresent()) {
            Tensor y = model.nullCaption().get().toF32();
            if (y.dim(0) != cond.length()) {
                throw new IllegalArgumentException("the model's null caption has " + y.dim(0) + " tokens but the captions have "
                        + cond.length() + "; give captions of " + y.dim(0) + " tokens");
            }
            return new Captions(Batches.repeat(y, b), cond.mask());
        }
        if (text == null) {
            throw new IllegalArgumentException("this " + info().layout() + " model guides with the embedding of \"\": give negative "
                    + "caption embeddings (negative_caption in the embeddings file) or a model folder with a text encoder");
        }
        return encode(Collections.nCopies(b, ""), cond.length());
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

    private static Captions noMask(Captions c) {
        return new Captions(c.embeddings(), null);
    }

    private static Tensor ones(Captions c) {
        float[] v = new float[c.batch() * c.length()];
        Arrays.fill(v, 1f);
        return Tensor.of(v, c.batch(), c.length());
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
