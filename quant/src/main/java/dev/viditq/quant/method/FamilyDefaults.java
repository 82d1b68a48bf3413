package dev.viditq.quant.method;

import dev.viditq.quant.config.LayerPattern;

import java.util.List;

/**
 * The layers ViDiT-Q keeps in floating point, for every family at once: everything outside the transformer blocks
 * (patch/timestep/caption/size embedders, PixArt's t_block / adaln_single, caption_projection, the final layer and
 * proj_out) and the adaLN modulation linears inside DiT's blocks. Attention matmuls are never Linears, so never
 * quantized. Block Linears are recognised by their checkpoint prefix: {@code blocks.N.}, {@code transformer_blocks.N.},
 * {@code spatial_blocks.N.}, {@code temporal_blocks.N.}, {@code temporal_transformer_blocks.N.}.
 */
public final class FamilyDefaults {
    private static final List<LayerPattern> KEEP_FLOAT = List.of(
            LayerPattern.of("(?!(\\w+_)?blocks\\.\\d+\\.).*", "default keep_float (outside the transformer blocks)"),
            LayerPattern.of(".*\\.adaLN_modulation\\..*", "default keep_float (adaLN modulation)"));

    private FamilyDefaults() {}

    public static List<LayerPattern> keepFloat() {
        return KEEP_FLOAT;
    }
}
