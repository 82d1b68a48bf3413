package dev.viditq.nn.vae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.io.StrictJson;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code AutoencoderKL} config.json; absent keys take diffusers' defaults. Only the block types of the
 * image VAEs (DownEncoderBlock2D / UpDecoderBlock2D) and SiLU exist in the checkpoints this project reads;
 * anything else is refused by name.
 *
 * @param scalingFactor latents = scalingFactor · (mean − shiftFactor): SD 0.18215, SDXL 0.13025
 * @param shiftFactor   0 when the config has none (null)
 */
public record VaeConfig(int inChannels, int outChannels, List<Integer> blockOutChannels, int layersPerBlock,
                        int latentChannels, int normNumGroups, float scalingFactor, float shiftFactor,
                        boolean useQuantConv, boolean usePostQuantConv, boolean midBlockAddAttention) {

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        if (blockOutChannels.isEmpty()) throw new IllegalArgumentException("block_out_channels is empty");
        if (inChannels <= 0 || outChannels <= 0 || latentChannels <= 0 || layersPerBlock <= 0 || normNumGroups <= 0) {
            throw new IllegalArgumentException("VAE sizes must be positive");
        }
        for (int c : blockOutChannels) {
            if (c <= 0 || c % normNumGroups != 0) {
                throw new IllegalArgumentException("block width " + c + " is not a positive multiple of norm_num_groups " + normNumGroups);
            }
        }
    }

    /** Spatial factor between image and latent: 2^(blocks − 1). */
    public int downscale() {
        return 1 << (blockOutChannels.size() - 1);
    }

    public static VaeConfig load(Path file) {
        return StrictJson.readConfig(file, "AutoencoderKL config", VaeConfig::fromJson);
    }

    static VaeConfig fromJson(JsonNode c) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException("not a JSON object");
        List<Integer> blocks = new ArrayList<>();
        JsonNode boc = c.get("block_out_channels");
        if (boc == null || boc.isNull()) blocks.add(64);
        else for (JsonNode n : boc) blocks.add(n.asInt());
        requireTypes(c, "down_block_types", "DownEncoderBlock2D", blocks.size());
        requireTypes(c, "up_block_types", "UpDecoderBlock2D", blocks.size());
        String act = c.path("act_fn").asText("silu");
        if (!act.equals("silu")) throw new IllegalArgumentException("act_fn '" + act + "' is not supported (silu)");
        JsonNode shift = c.get("shift_factor");
        return new VaeConfig(
                c.path("in_channels").asInt(3), c.path("out_channels").asInt(3), blocks,
                c.path("layers_per_block").asInt(1), c.path("latent_channels").asInt(4),
                c.path("norm_num_groups").asInt(32), (float) c.path("scaling_factor").asDouble(0.18215),
                shift == null || shift.isNull() ? 0f : (float) shift.asDouble(),
                bool(c, "use_quant_conv"), bool(c, "use_post_quant_conv"), bool(c, "mid_block_add_attention"));
    }

    /**
     * The config of an AutoencoderKL checkpoint that comes without one (Open-Sora 1.2 stores the SDXL VAE's weights
     * in its own file and names the config only by hub id), read off the weight shapes under {@code prefix}:
     * widths, layers per block, channels, mid-block attention and quant convs. No shape shows norm_num_groups:
     * the caller gives it.
     */
    static VaeConfig inferFromWeights(TensorFile file, String prefix, int normNumGroups) {
        List<Integer> widths = new ArrayList<>();
        while (file.contains(prefix + "encoder.down_blocks." + widths.size() + ".resnets.0.conv1.weight")) {
            widths.add(Math.toIntExact(file.get(prefix + "encoder.down_blocks." + widths.size() + ".resnets.0.conv1.weight").dim(0)));
        }
        if (widths.isEmpty()) throw new CheckpointException(file.path(), "has no AutoencoderKL weights under '" + prefix + "'");
        int layers = 0;
        while (file.contains(prefix + "encoder.down_blocks.0.resnets." + layers + ".conv1.weight")) layers++;
        return new VaeConfig(dim(file, prefix + "encoder.conv_in.weight", 1), dim(file, prefix + "decoder.conv_out.weight", 0),
                widths, layers, dim(file, prefix + "decoder.conv_in.weight", 1), normNumGroups, 0.18215f, 0f,
                file.contains(prefix + "quant_conv.weight"), file.contains(prefix + "post_quant_conv.weight"),
                file.contains(prefix + "encoder.mid_block.attentions.0.to_q.weight")
                        || file.contains(prefix + "encoder.mid_block.attentions.0.query.weight"));
    }

    private static int dim(TensorFile file, String key, int axis) {
        if (!file.contains(key)) throw new CheckpointException(file.path(), "has no '" + key + "' to read the VAE's size from");
        return Math.toIntExact(file.get(key).dim(axis));
    }

    private static boolean bool(JsonNode c, String key) {
        JsonNode v = c.get(key);
        return v == null || v.isNull() || v.asBoolean(); // all default to true in diffusers
    }

    private static void requireTypes(JsonNode c, String key, String only, int blocks) {
        JsonNode types = c.get(key);
        if (types == null || types.isNull()) return;
        if (types.size() != blocks) {
            throw new IllegalArgumentException(key + " has " + types.size() + " entries for " + blocks + " block_out_channels");
        }
        for (JsonNode t : types) {
            if (!t.asText().equals(only)) throw new IllegalArgumentException(key + " entry '" + t.asText() + "' is not supported (" + only + ")");
        }
    }
}
