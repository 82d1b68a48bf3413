package dev.viditq.nn.vae;

import dev.viditq.nn.layers.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * The two halves of AutoencoderKL as diffusers builds them from the config.
 * Encoder: conv_in → down blocks (resnets, then a stride-2 conv on all but the last) → mid block → GroupNorm,
 * SiLU, conv_out (2·latent channels). Decoder: conv_in → mid block → up blocks over the reversed widths
 * (layers_per_block + 1 resnets, then nearest 2x + conv on all but the last) → GroupNorm, SiLU, conv_out.
 */
final class VaeCoders {
    private VaeCoders() {}

    /** Layers applied in sequence, each output replacing (and freeing) its input. */
    interface Stage {
        FeatureMap forward(FeatureMap x);
    }

    /** Runs {@code stages} on {@code x}; intermediate maps are freed, {@code x} is left to the caller. */
    static FeatureMap run(List<Stage> stages, FeatureMap x) {
        FeatureMap current = x;
        for (Stage s : stages) {
            FeatureMap next = s.forward(current);
            if (current != x) current.close();
            current = next;
        }
        return current;
    }

    /** diffusers UNetMidBlock2D without time embedding: resnet, attention (optional), resnet. */
    static void midBlock(Weights w, String key, int channels, int groups, boolean attention, List<Stage> stages) {
        ResnetBlock2D first = new ResnetBlock2D(w, key + ".resnets.0", channels, channels, groups);
        stages.add(first::forward);
        if (attention) stages.add(new VaeAttention(w, key + ".attentions.0", channels, groups)::forward);
        ResnetBlock2D second = new ResnetBlock2D(w, key + ".resnets.1", channels, channels, groups);
        stages.add(second::forward);
    }

    /** GroupNorm + SiLU + conv_out. */
    static void head(Weights w, String key, int channels, int outChannels, int groups, List<Stage> stages) {
        GroupNorm norm = GroupNorm.load(w, key + ".conv_norm_out", channels, groups);
        Conv2d conv = Conv2d.load(w, key + ".conv_out", channels, outChannels, 3);
        stages.add(norm::applySilu);
        stages.add(conv::apply);
    }

    /** encoder.*: image [in, H, W] → moments [2·latent, H/f, W/f]. */
    static List<Stage> encoder(VaeConfig c, Weights w) {
        List<Stage> stages = new ArrayList<>();
        List<Integer> widths = c.blockOutChannels();
        int groups = c.normNumGroups();
        stages.add(Conv2d.load(w, "encoder.conv_in", c.inChannels(), widths.getFirst(), 3)::apply);
        int in = widths.getFirst();
        for (int i = 0; i < widths.size(); i++) {
            int out = widths.get(i);
            String block = "encoder.down_blocks." + i;
            for (int j = 0; j < c.layersPerBlock(); j++) {
                stages.add(new ResnetBlock2D(w, block + ".resnets." + j, j == 0 ? in : out, out, groups)::forward);
            }
            if (i < widths.size() - 1) stages.add(Conv2d.load(w, block + ".downsamplers.0.conv", out, out, 3)::downsample);
            in = out;
        }
        midBlock(w, "encoder.mid_block", widths.getLast(), groups, c.midBlockAddAttention(), stages);
        head(w, "encoder", widths.getLast(), 2 * c.latentChannels(), groups, stages);
        return stages;
    }

    /** decoder.*: latent [latent, h, w] → image [out, h·f, w·f]. */
    static List<Stage> decoder(VaeConfig c, Weights w) {
        List<Stage> stages = new ArrayList<>();
        List<Integer> widths = c.blockOutChannels().reversed();
        int groups = c.normNumGroups();
        stages.add(Conv2d.load(w, "decoder.conv_in", c.latentChannels(), widths.getFirst(), 3)::apply);
        midBlock(w, "decoder.mid_block", widths.getFirst(), groups, c.midBlockAddAttention(), stages);
        int in = widths.getFirst();
        for (int i = 0; i < widths.size(); i++) {
            int out = widths.get(i);
            String block = "decoder.up_blocks." + i;
            for (int j = 0; j < c.layersPerBlock() + 1; j++) {
                stages.add(new ResnetBlock2D(w, block + ".resnets." + j, j == 0 ? in : out, out, groups)::forward);
            }
            if (i < widths.size() - 1) stages.add(Conv2d.load(w, block + ".upsamplers.0.conv", out, out, 3)::upsample);
            in = out;
        }
        head(w, "decoder", widths.getLast(), c.outChannels(), groups, stages);
        return stages;
    }
}
