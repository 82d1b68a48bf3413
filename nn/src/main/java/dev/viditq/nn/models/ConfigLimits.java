package dev.viditq.nn.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.MemoryBudget;

import java.util.List;
import java.util.Locale;

/**
 * Sane limits on a denoiser's config and on a generation's size, checked before anything is built or allocated,
 * so that an absurd value is one error naming the key (or option) and the limit instead of a hang, an
 * OutOfMemoryError or the kernel's OOM killer: {@code depth: 1000000000}, {@code num_heads: -4},
 * {@code patch_size: 0}, {@code --size 100000x100000}, {@code --frames 100000}.
 *
 * <p>Checks: every size key the families read is a positive integer (dimensions, heads, depth, patch, caption
 * sizes), heads divide the width, and two estimates fit this JVM ({@link MemoryBudget}): parameters (at one byte
 * each, the least any checkpoint here stores) against physical memory, and activations against the memory tensors
 * may take. The estimates are deliberately low (see {@link #ACTIVATION_VALUES_PER_WIDTH}), so that they refuse
 * only what cannot possibly run.
 */
public final class ConfigLimits {
    /** Keys that are sizes wherever a family reads them: positive integers (a list for STDiT's input_size / patch_size). */
    private static final List<String> POSITIVE = List.of("hidden_size", "depth", "num_heads", "patch_size", "in_channels",
            "out_channels", "input_size", "caption_channels", "model_max_length", "num_layers", "num_attention_heads",
            "attention_head_dim", "sample_size", "cross_attention_dim", "video_length", "num_classes");
    /** Largest value any size key may take (no real model is within three orders of magnitude of it). */
    private static final long MAX_SIZE = 1 << 20;
    /**
     * F32 values alive per token and per unit of width at the peak of a block's forward pass: q, k, v, the attention
     * output, the 4× MLP hidden and the residual stream make ~12, doubled for the two halves of a guided batch.
     */
    static final int ACTIVATION_VALUES_PER_WIDTH = 24;
    /** Parameters per block in units of width²: attention 4, MLP 8 (mlp_ratio 4), cross-attention 4 when captioned. */
    private static final int SELF_BLOCK_PARAMS = 12, CROSS_BLOCK_PARAMS = 4;

    private ConfigLimits() {}

    /** Checks the denoiser config {@code cfg} (see the class comment); throws naming the file, the key and the limit. */
    public static void check(ModelConfig cfg) {
        for (String key : POSITIVE) {
            JsonNode n = cfg.node(key);
            if (n == null) continue;
            if (n.isArray()) {
                for (JsonNode v : n) if (!v.isNull()) positive(cfg, key, v); // Open-Sora 1.2: [null, null, null] = any size
            } else {
                positive(cfg, key, n);
            }
        }
        if (cfg.has("mlp_ratio")) {
            double r = cfg.getDouble("mlp_ratio");
            if (!(r > 0 && r <= 64)) throw cfg.error("\"mlp_ratio\" is " + r + "; it must be in (0, 64]");
        }
        int width = width(cfg);
        int heads = cfg.has("num_heads") ? cfg.getInt("num_heads") : 0;
        if (width > 0 && heads > 0 && width % heads != 0) {
            throw cfg.error("\"num_heads\" " + heads + " does not divide \"hidden_size\" " + width
                    + ": every head must get the same width");
        }
        int depth = cfg.has("depth") ? cfg.getInt("depth") : cfg.has("num_layers") ? cfg.getInt("num_layers") : 0;
        if (width > 0 && depth > 0) checkParameters(cfg, width, depth);
    }

    private static void positive(ModelConfig cfg, String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 1 || v.longValue() > MAX_SIZE) {
            throw cfg.error("\"" + key + "\" is " + v + "; it must be an integer from 1 to " + MAX_SIZE);
        }
    }

    /** hidden_size, or heads × head width (diffusers), or 0 when the config states neither. */
    private static int width(ModelConfig cfg) {
        if (cfg.has("hidden_size")) return cfg.getInt("hidden_size");
        if (cfg.has("num_attention_heads") && cfg.has("attention_head_dim")) {
            return Math.toIntExact(Math.min(Integer.MAX_VALUE, (long) cfg.getInt("num_attention_heads") * cfg.getInt("attention_head_dim")));
        }
        return 0;
    }

    private static void checkParameters(ModelConfig cfg, int width, int depth) {
        boolean captioned = cfg.has("caption_channels") || cfg.has("cross_attention_dim");
        double params = (double) depth * (SELF_BLOCK_PARAMS + (captioned ? CROSS_BLOCK_PARAMS : 0)) * width * (double) width;
        if (params > MemoryBudget.physicalBytes()) {
            String depthKey = cfg.has("depth") ? "depth" : "num_layers";
            throw cfg.error(String.format(Locale.ROOT, "\"%s\" %d at width %d makes an estimated %.2g parameters, at least %s"
                            + " even at one byte each: more than the %s of memory of this machine", depthKey, depth, width, params,
                    MemoryBudget.human(saturate(params)), MemoryBudget.human(MemoryBudget.physicalBytes())));
        }
    }

    /**
     * Checks that generating {@code batch} samples of {@code height}×{@code width} pixels and {@code frames} frames
     * can fit: the denoiser's activations at the model's width over {@code latentFrames} frames (fewer than
     * {@code frames} behind a VAE with temporal compression) and the VAE decoder's at full resolution
     * ({@code vaeWidth} channels, 0 without a VAE). {@code what} names the options in the error, e.g. "--size 512x512".
     */
    public static void checkGeneration(ModelInfo info, int batch, int height, int width, int frames, int latentFrames,
                                       int pixelsPerLatent, int vaeWidth, String what) {
        double tokens = (double) (height / pixelsPerLatent / info.patchSize()) * (width / pixelsPerLatent / info.patchSize()) * latentFrames;
        double denoiser = batch * tokens * info.hidden() * ACTIVATION_VALUES_PER_WIDTH * Float.BYTES;
        // the VAEs decode one image (one frame of one sample) at a time: a full-resolution conv's input and output for
        // that image, and the decoded RGB output of them all
        double vae = vaeWidth == 0 ? 0 : (double) height * width * vaeWidth * 2 * Float.BYTES
                + (double) batch * frames * height * width * 3 * Float.BYTES;
        double bytes = Math.max(denoiser, vae);
        if (bytes > MemoryBudget.tensorBytes()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: %s × %d frame(s) × batch %d %s an estimated"
                            + " %s of activations, more than the %s this JVM may give tensors (%s)", what,
                    height + "x" + width, frames, batch, denoiser >= vae ? "in the denoiser needs" : "in the VAE decoder needs",
                    MemoryBudget.human(saturate(bytes)), MemoryBudget.human(MemoryBudget.tensorBytes()), MemoryBudget.describe()));
        }
    }

    private static long saturate(double bytes) {
        return bytes >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) bytes;
    }
}
