package dev.viditq.nn.models;

import dev.viditq.nn.sampling.Prediction;
import dev.viditq.nn.sampling.RectifiedFlowSampler;
import dev.viditq.nn.text.Captions;
import dev.viditq.nn.vae.AutoencoderKL;
import dev.viditq.nn.vae.LatentDecoder;
import dev.viditq.nn.vae.OpenSoraVae;
import dev.viditq.nn.vae.WanVae;
import dev.viditq.nn.models.wan.WanOriginalFolder;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Everything the toolkit knows about one model family in one checkpoint layout, in one place: how its checkpoint
 * and config are recognised, which model class builds it, and how its official pipeline samples it (sampler, steps,
 * guidance scale and convention, prediction type and flow shift, caption length and masking, extra conditions, VAE).
 * Code elsewhere asks {@code model.info().family()} instead of comparing family names; measurement code (benchmark
 * architectures, ONNX export) keeps its own per-family code keyed by these constants and refuses the others.
 *
 * <h2>Adding a family</h2>
 * <ol>
 *   <li>Write the model class in this package: a {@link BaseDenoiser} with a static
 *       {@code load(ModelConfig, TensorFile)} that reads its config.json, builds its {@link ModelInfo} with
 *       {@code ModelInfo.builder(ModelFamily.X)} and loads its weights through {@code Weights}
 *       (every Linear a {@code Linear}, so that quantization reaches it).</li>
 *   <li>Add one constant below: its id and layout, the keys only its checkpoints have ({@link Signature}), the
 *       names its config uses ({@code _class_name}, {@code model_type} or {@code family}), and the facts of its
 *       official pipeline. Rules that vary (the guidance convention by sampler, the flow shift by size) are small
 *       lambdas; a VAE of its own is opened by {@code .vae(MyVae::load)} (a {@link LatentDecoder}); a model
 *       conditioned on the video's size and frame rate says {@code .videoConditions(videoFps, imageFps)}, one that
 *       pads its latent to whole patches {@code .padsToPatches()}; a caption treatment no family has yet is a new
 *       {@link Masking} constant.</li>
 *   <li>Name its load method in {@link ModelLoader}'s switch over the families (the compiler asks for it; the
 *       table lives there so that this descriptor does not depend on the model classes that depend on it).</li>
 *   <li>Add its parity case (a {@code GoldenCase} under {@code golden/}) and tests.</li>
 * </ol>
 * A sampler that is new to the toolkit (say UniPC) is added to {@code nn.sampling.Samplers}, where every family can
 * use it. Nothing else changes: the loader, the pipeline, calibration, quantization and the commands read the
 * descriptor.
 */
public enum ModelFamily {
    /** facebookresearch/DiT: class-conditional, adaLN-Zero. */
    DIT(family("dit", Layout.ORIGINAL, "facebookresearch/DiT")
            .keys(Signature.having("y_embedder.embedding_table.weight"))
            .configFamilyNames("dit")
            .masking(Masking.NO_CAPTION)
            .sampling("iddpm", 250, 4.0)
            .guidance((sampler, channels) -> new CfgConvention(true, CfgConvention.OFFICIAL_GUIDED_CHANNELS))),

    /** PixArt-α / Σ in the research repo's layout: adaLN-single, T5 captions with masked tokens removed. */
    PIXART(family("pixart", Layout.ORIGINAL, "PixArt-alpha / PixArt-sigma")
            .keys(Signature.having("y_embedder.y_proj.fc1.weight", "t_block.1.weight")
                    .without("blocks.0.attn_temp.qkv.weight", "spatial_blocks.0.attn.qkv.weight"))
            .configFamilyNames("pixart", "pixart-alpha", "pixart-sigma")
            .masking(Masking.DROP_MASKED)
            .sampling("dpm-solver", 20, 4.5)
            // IDDPM runs forward_with_cfg ([cond | null], channels 0..2); PixArt's DPM-Solver wraps
            // forward_with_dpmsolver ([uncond | cond], the ε channels); other samplers follow the latter
            .guidance((sampler, channels) -> sampler.equals("iddpm")
                    ? new CfgConvention(true, CfgConvention.OFFICIAL_GUIDED_CHANNELS) : new CfgConvention(false, channels))),

    /** PixArt in diffusers' layout ({@code PixArtTransformer2DModel}). */
    PIXART_DIFFUSERS(family("pixart", Layout.DIFFUSERS, "PixArtTransformer2DModel")
            .keys(Signature.having("adaln_single.linear.weight").without("temporal_transformer_blocks.0.attn1.to_q.weight"))
            // PixArt's first diffusers releases saved the generic Transformer2DModel (with adaLN-single norms,
            // which PixArtDiffusers.load checks)
            .configClassNames("PixArtTransformer2DModel", "Transformer2DModel")
            .masking(Masking.ADDITIVE_10000)
            .sampling("dpmpp-2m", 20, 4.5)),

    /** Open-Sora v1.0 STDiT: PixArt blocks plus temporal attention. */
    STDIT(family("stdit", Layout.ORIGINAL, "Open-Sora v1.0 STDiT")
            .keys(Signature.having("blocks.0.attn_temp.qkv.weight"))
            .configFamilyNames("stdit", "stdit1")
            .video()
            .masking(Masking.DROP_MASKED)
            .sampling("iddpm", 100, 7.0)
            .guidance((sampler, channels) -> new CfgConvention(true, channels))), // cfg_channel = C

    /** Open-Sora v1.2 STDiT3: rectified flow, conditioned on the video's size and frame rate. */
    STDIT3(family("stdit3", Layout.ORIGINAL, "Open-Sora v1.2 STDiT3")
            .keys(Signature.having("spatial_blocks.0.attn.qkv.weight"))
            .configModelTypes("STDiT3") // Open-Sora 1.2 saves a transformers PretrainedConfig
            .configFamilyNames("stdit3")
            .video()
            // its inference configs' fps; one-frame samples get IMG_FPS (prepare_multi_resolution_info)
            .videoConditions(24f, 120f)
            .padsToPatches() // PatchEmbed3D pads: 240p at 9:16 has 53 latent columns
            .masking(Masking.DROP_MASKED)
            .captionTokens(300)
            .sampling("rflow", 30, 7.0)
            // RFLOW.sample: [cond | null] in one batch, v = u + s·(c − u) on the velocity (the first C channels;
            // guiding the learned-sigma channels too changes nothing the sampler reads)
            .guidance((sampler, channels) -> new CfgConvention(true, CfgConvention.ALL))
            .flow(RectifiedFlowSampler::openSoraShift)
            .vae(OpenSoraVae::load)), // VideoAutoencoderPipeline: 2-D VAE + temporal VAE

    /** Latte in diffusers' layout ({@code LatteTransformer3DModel}). */
    LATTE_DIFFUSERS(family("latte", Layout.DIFFUSERS, "LatteTransformer3DModel")
            .keys(Signature.having("temporal_transformer_blocks.0.attn1.to_q.weight"))
            .configClassNames("LatteTransformer3DModel")
            .video()
            .masking(Masking.TRUNCATE_ONLY)
            .sampling("ddim", 50, 7.5)),

    /** Wan 2.1 in diffusers' layout ({@code WanTransformer3DModel}). */
    WAN(wan(Layout.DIFFUSERS, "WanTransformer3DModel")
            .keys(Signature.having("condition_embedder.time_proj.weight"))),

    /** Wan 2.1 in the original repository's layout ({@code WanModel}), read through a renaming view. */
    WAN_ORIGINAL(wan(Layout.ORIGINAL, "WanModel")
            .keys(Signature.having("time_projection.1.weight"))
            .parts(root -> new OwnParts(WanOriginalFolder.vae(root), WanOriginalFolder.textEncoder(root),
                    WanOriginalFolder.tokenizer(root))));

    /** The facts both Wan layouts share. */
    private static Spec wan(Layout layout, String className) {
        return family("wan", layout, className)
                .configClassNames(className)
                .video()
                .masking(Masking.ZERO_PADDED)
                .captionTokens(512)
                .sampling("unipc", 50, 5.0)
                // Wan 2.1's sample_shift: 3.0 at 480p, 5.0 at 720p
                .flowPrediction((h, w, frames) -> Math.min(h, w) >= 720 ? 5.0 : 3.0)
                // WanPipeline's defaults: 480×832, 81 frames, written at 16 fps
                .defaultVideo(480, 832, 81, 16)
                .vae(WanVae::load);
    }

    /** Where a checkpoint's key names come from. */
    public enum Layout {
        /** The research repos' own modules. */
        ORIGINAL,
        /** diffusers' {@code ModelMixin} classes. */
        DIFFUSERS;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The official code's treatment of a caption's padded tokens, applied to the [conditional, unconditional]
     * captions before they reach the model ({@link #apply}).
     */
    public enum Masking {
        /** Class-conditional: no caption. */
        NO_CAPTION,
        /** Original PixArt / Open-Sora: masked tokens are removed; a caption with none valid is attended by no query. */
        DROP_MASKED,
        /** diffusers PixArt: additive bias (1 - mask)·(-10000). */
        ADDITIVE_10000,
        /** diffusers Latte: no mask at all; its pipeline truncates the caption to the valid tokens instead. */
        TRUNCATE_ONLY {
            @Override
            public Captions[] apply(Captions cond, Captions uncond) {
                // diffusers LattePipeline: one prompt is cut to its valid tokens (the negative to as many); several
                // are multiplied by their masks; the transformer itself takes no mask
                if (cond.batch() == 1) {
                    int keep = cond.validLength(0);
                    return new Captions[]{cond.truncate(keep).withoutMask(), uncond.truncate(keep).withoutMask()};
                }
                return new Captions[]{cond.maskedToZero(), uncond.truncate(cond.length()).withoutMask()};
            }
        },
        /**
         * Wan: no mask; the caption rows past each prompt's tokens are zeroed and padded to the full caption length
         * (512), and those zero rows take part in the attention (so the length matters).
         */
        ZERO_PADDED {
            @Override
            public Captions[] apply(Captions cond, Captions uncond) {
                return new Captions[]{cond.maskedToZero(), uncond.maskedToZero()};
            }
        };

        /**
         * [conditional, unconditional] as the model receives them; {@code uncond} has at least as many tokens as
         * {@code cond}. The masking families keep both masks (a side without one gets a mask of ones) and cut the
         * unconditional caption to the conditional one's length.
         */
        public Captions[] apply(Captions cond, Captions uncond) {
            if (this == NO_CAPTION) throw new IllegalStateException("a class-conditional model takes no captions");
            uncond = uncond.truncate(cond.length());
            if (cond.mask() == null && uncond.mask() != null) cond = cond.withFullMask();
            if (uncond.mask() == null && cond.mask() != null) uncond = uncond.withFullMask();
            return new Captions[]{cond, uncond};
        }
    }

    /** The official pipeline's sampling defaults. */
    public record Sampling(String sampler, int steps, double cfgScale) {}

    /** The official pipeline's output size when the model's config leaves it open, and the frame rate it writes. */
    public record VideoSize(int height, int width, int frames, double fps) {}

    /** The keys every checkpoint of a family has, and keys that tell a look-alike family apart. */
    public record Signature(List<String> present, List<String> absent) {
        public static Signature having(String... keys) {
            return new Signature(List.of(keys), List.of());
        }

        public Signature without(String... keys) {
            return new Signature(present, Stream.concat(absent.stream(), Stream.of(keys)).toList());
        }

        public boolean matches(Set<String> keys) {
            return keys.containsAll(present) && absent.stream().noneMatch(keys::contains);
        }
    }

    /** The guidance convention for a sampler (a {@code Samplers} name) and the model's latent channels. */
    @FunctionalInterface
    public interface GuidanceRule {
        CfgConvention of(String sampler, int latentChannels);
    }

    /** A flow-matching family's timestep shift for a video of that size. */
    @FunctionalInterface
    public interface FlowShift {
        double of(int heightPx, int widthPx, int frames);
    }

    /**
     * Parts of a model folder that a layout keeps under names of its own, for where the generic rules ({@code vae/},
     * {@code text_encoder/}, {@code tokenizer/}) find none: each a folder or a checkpoint file, or null.
     */
    public record OwnParts(Path vae, Path textEncoder, Path tokenizer) {
        static final OwnParts NONE = new OwnParts(null, null, null);
    }

    /** Finds a layout's own parts in a model folder's root. */
    @FunctionalInterface
    public interface PartsLocator {
        OwnParts locate(Path root);
    }

    /** Opens the VAE of a model folder ({@code vae/}, or a checkpoint file {@link OwnParts} names). */
    @FunctionalInterface
    public interface VaeOpener {
        LatentDecoder open(Path dir);
    }

    private final Spec spec;

    ModelFamily(Spec spec) {
        if (spec.signature.present().isEmpty()) throw new IllegalStateException(spec.id + ": no key signature");
        Objects.requireNonNull(spec.masking, () -> spec.id + ": no caption masking");
        Objects.requireNonNull(spec.sampling, () -> spec.id + ": no sampling defaults");
        this.spec = spec;
    }

    /** The family's short name, as configs and reports write it ("dit", "pixart", "stdit", "stdit3", "latte"). */
    public String id() {
        return spec.id;
    }

    public Layout layout() {
        return spec.layout;
    }

    /** For messages: "pixart, diffusers layout (PixArtTransformer2DModel)". */
    public String description() {
        return spec.id + ", " + spec.layout + " layout (" + spec.origin + ")";
    }

    /** The short name ({@link #id()}): messages read "this pixart model". */
    @Override
    public String toString() {
        return spec.id;
    }

    // ---- recognising a checkpoint

    public Signature signature() {
        return spec.signature;
    }

    /**
     * The family of a checkpoint from its keys, checked against the config's own statement when it makes one
     * ({@code _class_name} as diffusers saves it, {@code model_type} as a transformers PretrainedConfig saves it, or
     * {@code family} in this project's original-layout configs).
     */
    public static ModelFamily detect(ModelConfig cfg, Set<String> keys) {
        ModelFamily byKeys = byKeys(keys);
        ModelFamily byConfig = byConfig(cfg);
        if (byKeys != null && byConfig != null && byKeys != byConfig) {
            throw cfg.error("describes a " + byConfig.description() + " model, but the checkpoint's keys are those of a "
                    + byKeys.description() + " model");
        }
        if (byKeys != null) return byKeys;
        if (byConfig != null) return byConfig;
        throw cfg.error("cannot tell the model family: neither the config (\"_class_name\" or \"family\") nor the "
                + "checkpoint keys match a supported one (" + Arrays.stream(values()).map(ModelFamily::description)
                .collect(Collectors.joining("; ")) + ")");
    }

    /** The one family whose signature the keys match, or null. */
    static ModelFamily byKeys(Set<String> keys) {
        List<ModelFamily> matching = Arrays.stream(values()).filter(f -> f.spec.signature.matches(keys)).toList();
        if (matching.size() > 1) throw new IllegalStateException("the key signatures of " + matching + " overlap");
        return matching.isEmpty() ? null : matching.getFirst();
    }

    /** The family the config names, null when it names none; an error when it names an unsupported one. */
    static ModelFamily byConfig(ModelConfig cfg) {
        if (cfg.has("_class_name")) {
            String cls = cfg.getString("_class_name", "");
            return find(f -> f.spec.classNames.contains(cls)).orElseThrow(() -> cfg.error("_class_name \"" + cls
                    + "\" is not supported; supported: " + String.join(", ", allNames(f -> f.spec.classNames))
                    + ", or the original " + String.join(" / ", allNames(f -> f.spec.familyNames.stream().limit(1).toList()))
                    + " layouts"));
        }
        String modelType = cfg.getString("model_type", "");
        Optional<ModelFamily> byType = find(f -> f.spec.modelTypes.contains(modelType));
        if (byType.isPresent()) return byType.get();
        if (cfg.has("family")) {
            String name = cfg.getString("family", "").toLowerCase(Locale.ROOT);
            return find(f -> f.spec.familyNames.contains(name)).orElseThrow(() -> cfg.error("\"family\": \"" + name
                    + "\" is not supported (" + String.join(", ", allNames(f -> f.spec.familyNames)) + ")"));
        }
        return null;
    }

    private static Optional<ModelFamily> find(Predicate<ModelFamily> p) {
        return Arrays.stream(values()).filter(p).findFirst();
    }

    private static List<String> allNames(Function<ModelFamily, List<String>> names) {
        return Arrays.stream(values()).flatMap(f -> names.apply(f).stream()).toList();
    }

    // ---- what the model takes

    /** x is [B, C, T, H, W] rather than [B, C, H, W]. */
    public boolean video() {
        return spec.video;
    }

    /** Conditioned on class labels (label {@code numClasses} the null class) rather than captions. */
    public boolean classConditional() {
        return spec.masking == Masking.NO_CAPTION;
    }

    public Masking masking() {
        return spec.masking;
    }

    /** Caption length when neither the model's config nor its learned null caption states one. */
    public int defaultCaptionTokens() {
        return spec.captionTokens;
    }

    /** The model needs the video's height and width in pixels and its frame rate ({@link Conditioning#fps()}). */
    public boolean videoConditions() {
        return spec.videoConditions;
    }

    /**
     * The model zero-pads its latent to whole patches and crops its output back (Open-Sora 1.2's PatchEmbed3D), so
     * an output size need only be a multiple of the VAE factor, not of VAE factor × patch size.
     */
    public boolean padsToPatches() {
        return spec.padsToPatches;
    }

    /**
     * The frame rate it is conditioned on by default (where {@link #videoConditions()}) for a sample of
     * {@code frames} frames: a one-frame sample (an image) has its own.
     */
    public float conditioningFps(int frames) {
        return frames == 1 ? spec.imageFps : spec.fps;
    }

    // ---- how its official pipeline samples

    public Sampling sampling() {
        return spec.sampling;
    }

    /** The classifier-free guidance convention of the official code for {@code sampler}. */
    public CfgConvention guidance(String sampler, int latentChannels) {
        return spec.guidance.of(sampler, latentChannels);
    }

    public Prediction prediction() {
        return spec.prediction;
    }

    /** The sampler's timestep shift for this output size (1 = none; only flow-matching families shift). */
    public double flowShift(int heightPx, int widthPx, int frames) {
        return spec.flowShift.of(heightPx, widthPx, frames);
    }

    /**
     * The sampler for a bare denoiser (no scheduler config, no recipe): rectified flow for a velocity-predicting
     * family, UniPC for a flow-predicting one, DDIM for the others.
     */
    public String bareDenoiserSampler() {
        return switch (spec.prediction) {
            case VELOCITY -> "rflow";
            case FLOW -> "unipc";
            case EPSILON -> "ddim";
        };
    }

    /** The size the official pipeline makes when the model's config states none; null when it has no such default. */
    public VideoSize defaultVideo() {
        return spec.defaultVideo;
    }

    /** Frame rate of a written video: the official pipeline's, else 8. */
    public double outputFps() {
        return spec.defaultVideo != null ? spec.defaultVideo.fps() : 8;
    }

    /** The parts this layout keeps under its own names in the folder {@code root} ({@link OwnParts#NONE} for most). */
    public OwnParts ownParts(Path root) {
        return spec.parts.locate(root);
    }

    /**
     * The parts some family's layout keeps under its own names in {@code root}, before the family is known (the
     * folder is resolved before its checkpoint is read): the first family that finds any, else {@link OwnParts#NONE}.
     * The names are the layouts' own (Wan2.1_VAE.pth, ...), so two families do not claim one folder.
     */
    public static OwnParts ownPartsIn(Path root) {
        for (ModelFamily f : values()) {
            OwnParts p = f.ownParts(root);
            if (p.vae() != null || p.textEncoder() != null || p.tokenizer() != null) return p;
        }
        return OwnParts.NONE;
    }

    /** The VAE of a model folder of this family. */
    public LatentDecoder openVae(Path dir) {
        return spec.vae.open(dir);
    }

    // ---- the table's builder

    private static Spec family(String id, Layout layout, String origin) {
        return new Spec(id, layout, origin);
    }

    /** One family's facts; the defaults are those most families share. */
    private static final class Spec {
        final String id;
        final Layout layout;
        final String origin;
        Signature signature = new Signature(List.of(), List.of());
        List<String> classNames = List.of(), modelTypes = List.of(), familyNames = List.of();
        boolean video, videoConditions, padsToPatches;
        float fps, imageFps;
        Masking masking;
        int captionTokens = 120; // PixArt-α, Open-Sora 1.0 and Latte
        Sampling sampling;
        GuidanceRule guidance = (sampler, channels) -> CfgConvention.DIFFUSERS;
        Prediction prediction = Prediction.EPSILON;
        FlowShift flowShift = (h, w, f) -> 1.0;
        VaeOpener vae = AutoencoderKL::load;
        VideoSize defaultVideo;
        PartsLocator parts = root -> OwnParts.NONE;

        Spec(String id, Layout layout, String origin) {
            this.id = id;
            this.layout = layout;
            this.origin = origin;
        }

        Spec keys(Signature s) { signature = s; return this; }
        Spec configClassNames(String... names) { classNames = List.of(names); return this; }
        Spec configModelTypes(String... names) { modelTypes = List.of(names); return this; }
        Spec configFamilyNames(String... names) { familyNames = List.of(names); return this; }
        Spec video() { video = true; return this; }
        Spec videoConditions(float videoFps, float imageFps) { videoConditions = true; fps = videoFps; this.imageFps = imageFps; return this; }
        Spec padsToPatches() { padsToPatches = true; return this; }
        Spec masking(Masking m) { masking = m; return this; }
        Spec captionTokens(int n) { captionTokens = n; return this; }
        Spec sampling(String sampler, int steps, double cfgScale) { sampling = new Sampling(sampler, steps, cfgScale); return this; }
        Spec guidance(GuidanceRule rule) { guidance = rule; return this; }
        Spec flow(FlowShift shift) { prediction = Prediction.VELOCITY; flowShift = shift; return this; }
        Spec flowPrediction(FlowShift shift) { prediction = Prediction.FLOW; flowShift = shift; return this; }
        Spec vae(VaeOpener opener) { vae = opener; return this; }
        Spec parts(PartsLocator locator) { parts = locator; return this; }
        Spec defaultVideo(int height, int width, int frames, double fps) { defaultVideo = new VideoSize(height, width, frames, fps); return this; }
    }
}
