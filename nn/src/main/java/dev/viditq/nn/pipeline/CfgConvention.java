package dev.viditq.nn.pipeline;

import dev.viditq.nn.models.ModelInfo;

/**
 * How a family's official code applies classifier-free guidance ε = u + s·(c − u): the order of the halves in the
 * doubled batch and which output channels are guided (the others keep the conditional half's values).
 *
 * @param condFirst      batch [cond | uncond] (original repos' {@code forward_with_cfg}) rather than [uncond | cond]
 * @param guidedChannels the first this-many output channels are guided; {@link #ALL} for every channel
 */
public record CfgConvention(boolean condFirst, int guidedChannels) {
    public static final int ALL = Integer.MAX_VALUE;

    /**
     * <ul>
     *   <li>diffusers pipelines (PixArt, Latte): [uncond | cond], every channel (learned sigma guided, then dropped)</li>
     *   <li>DiT, and original PixArt with IDDPM: {@code forward_with_cfg}, [cond | null], channels 0..2 only</li>
     *   <li>original PixArt with its DPM-Solver ({@code model_wrapper} over {@code forward_with_dpmsolver}):
     *       [uncond | cond], the ε channels</li>
     *   <li>Open-Sora 1.0 STDiT: {@code forward_with_cfg}, [cond | null], the ε channels (cfg_channel = C)</li>
     *   <li>Open-Sora 1.2 STDiT3 (rectified flow): [cond | null], every channel</li>
     * </ul>
     * Sampler/model pairs the official code never runs (say original PixArt with DDIM) follow diffusers.
     */
    public static CfgConvention of(ModelInfo info, String sampler) {
        if (info.layout().equals("diffusers")) return new CfgConvention(false, ALL);
        return switch (info.family()) {
            case "dit" -> new CfgConvention(true, 3);
            case "pixart" -> sampler.equals("iddpm") ? new CfgConvention(true, 3) : new CfgConvention(false, info.inChannels());
            case "stdit" -> new CfgConvention(true, info.inChannels());
            case "stdit3" -> new CfgConvention(true, ALL);
            default -> new CfgConvention(false, ALL);
        };
    }
}
