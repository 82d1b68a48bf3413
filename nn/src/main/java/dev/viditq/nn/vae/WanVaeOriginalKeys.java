package dev.viditq.nn.vae;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The original Wan 2.1 repository's VAE keys (Wan2.1_VAE.pth: {@code WanVAE_} with encoder.downsamples.N,
 * decoder.upsamples.N as flat lists, residual.K inside residual blocks, middle.K, head.K, conv1/conv2 around the
 * latent) mapped to diffusers' AutoencoderKLWan names, as diffusers' scripts/convert_wan_to_diffusers.py renames them.
 * The decoder's flat list is split into up_blocks by the config's structure: per level num_res_blocks + 1 residual
 * blocks, then the upsampler (all levels but the last).
 */
public final class WanVaeOriginalKeys {
    /** Inside a residual block: the positions in its nn.Sequential (norm, SiLU, conv, norm, SiLU, dropout, conv). */
    private static final Map<String, String> RESIDUAL = Map.of(
            "residual.0", "norm1", "residual.2", "conv1", "residual.3", "norm2", "residual.6", "conv2",
            "shortcut", "conv_shortcut");
    private static final Map<String, String> MIDDLE = Map.of(
            "middle.0", "mid_block.resnets.0", "middle.1", "mid_block.attentions.0", "middle.2", "mid_block.resnets.1");
    private static final Map<String, String> CODER_ENDS = Map.of("conv1", "conv_in", "head.0", "norm_out", "head.2", "conv_out");
    private static final Map<String, String> LATENT_CONVS = Map.of("conv1", "quant_conv", "conv2", "post_quant_conv");
    private static final Pattern FLAT = Pattern.compile("(encoder\\.downsamples|decoder\\.upsamples)\\.(\\d+)\\.(.+)");

    private WanVaeOriginalKeys() {}

    /** True when the keys are the original layout's (its encoder's first conv is encoder.conv1). */
    public static boolean isOriginal(Set<String> keys) {
        return keys.contains("encoder.conv1.weight");
    }

    /** The diffusers name of an original key (unchanged when no rule applies, so the loader reports it). */
    public static String toDiffusers(String key, WanVaeConfig config) {
        Matcher m = FLAT.matcher(key);
        if (m.matches()) {
            int index = Integer.parseInt(m.group(2));
            String rest = residual(m.group(3));
            if (m.group(1).startsWith("encoder")) return "encoder.down_blocks." + index + "." + rest;
            List<String> blocks = decoderBlocks(config);
            return index < blocks.size() ? "decoder." + blocks.get(index) + "." + rest : key;
        }
        for (String coder : new String[]{"encoder.", "decoder."}) {
            if (!key.startsWith(coder)) continue;
            String rest = key.substring(coder.length());
            String renamed = prefix(rest, MIDDLE);
            if (renamed != null) return coder + residual(renamed);
            renamed = prefix(rest, CODER_ENDS);
            return renamed == null ? key : coder + renamed;
        }
        String renamed = prefix(key, LATENT_CONVS);
        return renamed == null ? key : renamed;
    }

    /** The decoder's original flat upsamples list as diffusers block paths, in order. */
    static List<String> decoderBlocks(WanVaeConfig config) {
        List<String> blocks = new ArrayList<>();
        int levels = config.dimMult().length;
        for (int i = 0; i < levels; i++) {
            for (int r = 0; r <= config.numResBlocks(); r++) blocks.add("up_blocks." + i + ".resnets." + r);
            if (i != levels - 1) blocks.add("up_blocks." + i + ".upsamplers.0");
        }
        return blocks;
    }

    /** A residual block's inner names renamed (other blocks' names pass unchanged). */
    private static String residual(String rest) {
        String renamed = rest;
        for (Map.Entry<String, String> r : RESIDUAL.entrySet()) {
            String from = r.getKey();
            int at = renamed.indexOf(from + ".");
            if (at == 0 || (at > 0 && renamed.charAt(at - 1) == '.')) {
                renamed = renamed.substring(0, at) + r.getValue() + renamed.substring(at + from.length());
                break;
            }
        }
        return renamed;
    }

    private static String prefix(String key, Map<String, String> rules) {
        for (Map.Entry<String, String> r : rules.entrySet()) {
            String from = r.getKey();
            if (key.startsWith(from + ".")) return r.getValue() + key.substring(from.length());
        }
        return null;
    }
}
