package dev.viditq.bench.arch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.WanTransformer;
import dev.viditq.nn.models.wan.WanConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A diffusion transformer's architecture in the original (research repo) layout: enough to write a checkpoint with
 * exactly the keys and shapes of the official one ({@link #tensors()}) and the config.json the model loader reads
 * ({@link #configJson()}). The real-size presets are {@link #PRESETS}; tests build small ones with the same code.
 * The checkpoint layouts written here are those of {@link #FAMILIES}; the sampler and guidance scale are the
 * family's ({@link ModelFamily#sampling()}).
 *
 * @param name            the preset name ({@code pixart-xl-2-256}, ...)
 * @param family          one of {@link #FAMILIES}
 * @param latent          latent height = width (image pixels / 8)
 * @param frames          video frames (1 for image models)
 * @param captionChannels caption width Dt (T5-XXL: 4096); 0 for DiT
 * @param captionTokens   caption length Lt (PixArt-α and Open-Sora 1.0: 120); 0 for DiT
 * @param numClasses      DiT only (ImageNet: 1000)
 * @param microConditions PixArtMS: csize / aspect-ratio embedders
 * @param mlpHidden       the feed-forward width (4 · hidden in DiT, PixArt and STDiT; Wan 2.1 states its own)
 */
public record Architecture(String name, ModelFamily family, int depth, int hidden, int heads, int patch, int inChannels,
                           int latent, int frames, int captionChannels, int captionTokens, int numClasses,
                           boolean microConditions, int mlpHidden) {
    /** Sinusoid width of every timestep / size embedder. */
    public static final int FREQUENCY_DIM = 256;
    /** The families whose original-layout checkpoints {@link #tensors()} writes. */
    public static final Set<ModelFamily> FAMILIES = EnumSet.of(ModelFamily.PIXART, ModelFamily.STDIT, ModelFamily.DIT,
            ModelFamily.WAN);

    /** An architecture whose feed-forward width is the usual 4 · hidden. */
    public Architecture(String name, ModelFamily family, int depth, int hidden, int heads, int patch, int inChannels, int latent,
                        int frames, int captionChannels, int captionTokens, int numClasses, boolean microConditions) {
        this(name, family, depth, hidden, heads, patch, inChannels, latent, frames, captionChannels, captionTokens, numClasses,
                microConditions, 4 * hidden);
    }

    public Architecture {
        if (!FAMILIES.contains(family)) {
            throw new IllegalArgumentException(name + ": no random-weight layout for " + family.description() + " (there is one for "
                    + FAMILIES.stream().map(ModelFamily::description).toList() + ")");
        }
        if (hidden % heads != 0) throw new IllegalArgumentException(name + ": hidden " + hidden + " not divisible by " + heads + " heads");
        if (latent % patch != 0) throw new IllegalArgumentException(name + ": latent " + latent + " not a multiple of patch " + patch);
        if (microConditions && hidden % 3 != 0) throw new IllegalArgumentException(name + ": micro-conditions need hidden % 3 == 0");
    }

    /**
     * PixArt-α XL/2 at 256, 512 and 1024 px (PixArt-alpha configs, DPM-Solver 20 steps, cfg 4.5), Open-Sora v1.0
     * STDiT-XL/2 at 16×256×256 (IDDPM, cfg 7), DiT-XL/2 at 256 px (IDDPM 250 steps, cfg 4) and Wan 2.1 T2V-1.3B at
     * 9 frames of 256×256 (UniPC, cfg 5; 3 latent frames of 32×32 through Wan's VAE, 768 tokens per sample; the
     * official 480×832 × 81 frames is 32 760 tokens, ~40× the work per step).
     */
    public static final Map<String, Architecture> PRESETS = List.of(
            pixart("pixart-xl-2-256", 32),
            pixart("pixart-xl-2-512", 64),
            pixart("pixart-xl-2-1024", 128),
            new Architecture("stdit-xl-2-16x256", ModelFamily.STDIT, 28, 1152, 16, 2, 4, 32, 16, 4096, 120, 0, false),
            new Architecture("dit-xl-2-256", ModelFamily.DIT, 28, 1152, 16, 2, 4, 32, 1, 0, 0, 1000, false),
            wan("wan2.1-t2v-1.3b-9x256x256", 30, 1536, 12, 8960, 32, 3)
    ).stream().collect(Collectors.toMap(Architecture::name, Function.identity(), (a, b) -> a, java.util.LinkedHashMap::new));

    private static Architecture pixart(String name, int latent) {
        return new Architecture(name, ModelFamily.PIXART, 28, 1152, 16, 2, 4, latent, 1, 4096, 120, 0, false);
    }

    /**
     * Wan 2.1 text-to-video (diffusers layout): patch (1, 2, 2), 16 latent channels, umT5-XXL captions (4096 wide)
     * padded to 512 tokens.
     *
     * @param latentFrames the latent frames of the clip (1 + (frames − 1) / 4 through Wan's VAE)
     */
    public static Architecture wan(String name, int depth, int hidden, int heads, int ffn, int latent, int latentFrames) {
        return new Architecture(name, ModelFamily.WAN, depth, hidden, heads, 2, 16, latent, latentFrames, 4096,
                WanTransformer.CAPTION_TOKENS, 0, false, ffn);
    }

    /** The preset of that name, or an error listing the known ones. */
    public static Architecture preset(String name) {
        Architecture a = PRESETS.get(name);
        if (a == null) {
            throw new IllegalArgumentException("unknown architecture '" + name + "'; known: " + String.join(", ", PRESETS.keySet()));
        }
        return a;
    }

    public boolean video() {
        return family.video();
    }

    /** The sampler the official inference uses (a {@code Samplers} name). */
    public String sampler() {
        return family.sampling().sampler();
    }

    /** Its guidance scale. */
    public double cfgScale() {
        return family.sampling().cfgScale();
    }

    /** Output channels: ε and the learned variance; Wan predicts the flow alone. */
    public int outChannels() {
        return family == ModelFamily.WAN ? inChannels : 2 * inChannels;
    }

    /** Patch tokens per frame. */
    public int tokensPerFrame() {
        return (latent / patch) * (latent / patch);
    }

    /** The latent of one sample: [C, H, W] or [C, T, H, W]. */
    public long[] latentShape() {
        return video() ? new long[]{inChannels, frames, latent, latent} : new long[]{inChannels, latent, latent};
    }

    /**
     * One tensor of the checkpoint. {@code std} is the standard deviation of its random values: 1/√fan_in for
     * weight matrices (activations keep unit scale through 28 blocks: no overflow, no denormals to slow the
     * kernels), small for biases and tables, 1 for embedding tables.
     */
    public record TensorSpec(String name, long[] shape, double std) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    /** Every tensor of the official state_dict, in a stable order. */
    public List<TensorSpec> tensors() {
        if (family == ModelFamily.WAN) return wanTensors();
        List<TensorSpec> t = new ArrayList<>();
        int h = hidden;
        long[] patchKernel = video() ? new long[]{h, inChannels, 1, patch, patch} : new long[]{h, inChannels, patch, patch};
        t.add(new TensorSpec("x_embedder.proj.weight", patchKernel, 1 / Math.sqrt((double) inChannels * patch * patch)));
        t.add(bias("x_embedder.proj.bias", h));
        t.add(new TensorSpec("pos_embed", new long[]{1, tokensPerFrame(), h}, 0.5));
        if (video()) t.add(new TensorSpec("pos_embed_temporal", new long[]{1, frames, h}, 0.5));
        mlp2(t, "t_embedder.mlp", FREQUENCY_DIM, h);
        if (family == ModelFamily.DIT) {
            t.add(new TensorSpec("y_embedder.embedding_table.weight", new long[]{numClasses + 1, h}, 1.0));
        } else {
            if (microConditions) {
                mlp2(t, "csize_embedder.mlp", FREQUENCY_DIM, h / 3);
                mlp2(t, "ar_embedder.mlp", FREQUENCY_DIM, h / 3);
            }
            linear(t, "t_block.1", h, 6 * h);
            linear(t, "y_embedder.y_proj.fc1", captionChannels, h);
            linear(t, "y_embedder.y_proj.fc2", h, h);
            t.add(new TensorSpec("y_embedder.y_embedding", new long[]{captionTokens, captionChannels}, 1.0));
        }
        for (int i = 0; i < depth; i++) block(t, "blocks." + i);
        if (family == ModelFamily.DIT) {
            linear(t, "final_layer.adaLN_modulation.1", h, 2 * h);
        } else {
            t.add(new TensorSpec("final_layer.scale_shift_table", new long[]{2, h}, 0.02));
        }
        linear(t, "final_layer.linear", h, patch * patch * outChannels());
        return t;
    }

    private void block(List<TensorSpec> t, String p) {
        int h = hidden;
        if (family == ModelFamily.DIT) linear(t, p + ".adaLN_modulation.1", h, 6 * h);
        else t.add(new TensorSpec(p + ".scale_shift_table", new long[]{6, h}, 0.02));
        linear(t, p + ".attn.qkv", h, 3 * h);
        linear(t, p + ".attn.proj", h, h);
        if (video()) {
            linear(t, p + ".attn_temp.qkv", h, 3 * h);
            linear(t, p + ".attn_temp.proj", h, h);
        }
        if (family != ModelFamily.DIT) {
            linear(t, p + ".cross_attn.q_linear", h, h);
            linear(t, p + ".cross_attn.kv_linear", h, 2 * h);
            linear(t, p + ".cross_attn.proj", h, h);
        }
        linear(t, p + ".mlp.fc1", h, mlpHidden);
        linear(t, p + ".mlp.fc2", mlpHidden, h);
    }

    /** The sizes of a Wan transformer of this architecture, as its config.json ({@link #configJson()}) states them. */
    public WanConfig wanConfig() {
        return new WanConfig(hidden, heads, inChannels, outChannels(), patch, captionChannels, FREQUENCY_DIM, mlpHidden, depth,
                true, 1e-6f, 0, 0, 1024);
    }

    /**
     * Wan's tensors as the model class lists them: matrices and the patch kernel at 1/√fan_in, biases, modulation
     * tables and norm weights small.
     */
    private List<TensorSpec> wanTensors() {
        List<TensorSpec> t = new ArrayList<>();
        WanTransformer.checkpointShapes(wanConfig()).forEach((name, shape) -> {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
            boolean kernel = name.endsWith(".weight") && shape.length >= 2;
            t.add(new TensorSpec(name, shape, kernel ? 1 / Math.sqrt(fanIn) : 0.02));
        });
        return t;
    }

    private static void mlp2(List<TensorSpec> t, String prefix, int in, int width) {
        linear(t, prefix + ".0", in, width);
        linear(t, prefix + ".2", width, width);
    }

    private static void linear(List<TensorSpec> t, String key, int in, int out) {
        t.add(new TensorSpec(key + ".weight", new long[]{out, in}, 1 / Math.sqrt(in)));
        t.add(bias(key + ".bias", out));
    }

    private static TensorSpec bias(String key, int n) {
        return new TensorSpec(key, new long[]{n}, 0.02);
    }

    /** Parameters (elements) of the whole checkpoint. */
    public long parameters() {
        return tensors().stream().mapToLong(TensorSpec::numel).sum();
    }

    /** config.json in the form the model loader reads for this family's original layout. */
    public String configJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = json.createObjectNode();
        if (family == ModelFamily.WAN) return wanConfigJson(json, c);
        c.put("family", family.id());
        c.put("source", "random weights in the layout of " + name + " (viditq bench)");
        if (video()) {
            c.putArray("input_size").add(frames).add(latent).add(latent);
            c.putArray("patch_size").add(1).add(patch).add(patch);
        } else {
            c.put("input_size", latent);
            c.put("patch_size", patch);
        }
        c.put("in_channels", inChannels);
        c.put("hidden_size", hidden);
        c.put("depth", depth);
        c.put("num_heads", heads);
        c.put("mlp_ratio", 4.0);
        switch (family) {
            case DIT -> {
                c.put("num_classes", numClasses);
                c.put("learn_sigma", true);
            }
            case PIXART -> {
                c.put("caption_channels", captionChannels);
                c.put("model_max_length", captionTokens);
                c.put("lewei_scale", 1.0);
                c.put("pred_sigma", true);
                c.put("micro_condition", microConditions);
            }
            case STDIT -> { // Open-Sora v1.0 at 256 px uses space_scale 0.5
                c.put("caption_channels", captionChannels);
                c.put("model_max_length", captionTokens);
                c.put("space_scale", latent <= 32 ? 0.5 : 1.0);
                c.put("time_scale", 1.0);
                c.put("pred_sigma", true);
            }
            default -> throw new IllegalStateException("no config for " + family.description());
        }
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** diffusers' WanTransformer3DModel config, as save_pretrained writes it. */
    private String wanConfigJson(ObjectMapper json, ObjectNode c) {
        WanConfig w = wanConfig();
        c.put("_class_name", "WanTransformer3DModel");
        c.put("_viditq_source", "random weights in the layout of " + name + " (viditq bench)");
        c.putArray("patch_size").add(1).add(w.patch()).add(w.patch());
        c.put("num_attention_heads", w.heads());
        c.put("attention_head_dim", w.headDim());
        c.put("in_channels", w.inChannels());
        c.put("out_channels", w.outChannels());
        c.put("text_dim", w.textDim());
        c.put("freq_dim", w.freqDim());
        c.put("ffn_dim", w.ffnDim());
        c.put("num_layers", w.layers());
        c.put("cross_attn_norm", w.crossAttnNorm());
        c.put("qk_norm", "rms_norm_across_heads");
        c.put("eps", w.eps());
        c.putNull("image_dim");
        c.putNull("added_kv_proj_dim");
        c.put("rope_max_seq_len", w.ropeMaxSeqLen());
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fingerprint of everything that decides the checkpoint's content, stored in it to validate a cached copy. */
    public String fingerprint() {
        // the form checkpoints cached so far carry (this record's string when it also held the sampler and scale)
        String fields = String.format(Locale.ROOT, "Architecture[name=%s, family=%s, depth=%d, hidden=%d, heads=%d, patch=%d, "
                        + "inChannels=%d, latent=%d, frames=%d, captionChannels=%d, captionTokens=%d, numClasses=%d, "
                        + "microConditions=%b, sampler=%s, cfgScale=%s]", name, family.id(), depth, hidden, heads, patch,
                inChannels, latent, frames, captionChannels, captionTokens, numClasses, microConditions, sampler(), cfgScale());
        // the feed-forward width joined the record later; it is only written where it is not the usual 4 · hidden
        if (mlpHidden != 4 * hidden) fields += " mlpHidden=" + mlpHidden;
        return "v1 " + fields + " " + tensors().size() + " tensors, " + parameters() + " parameters";
    }
}
