package dev.viditq.nn.models;

/**
 * How a family's official code applies classifier-free guidance ε = u + s·(c − u): the order of the halves in the
 * doubled batch and which output channels are guided (the others keep the conditional half's values). Each
 * family's rule is part of its {@link ModelFamily} descriptor; {@link ModelInfo#guidance} applies it to a model.
 *
 * @param condFirst      batch [cond | uncond] (original repos' {@code forward_with_cfg}) rather than [uncond | cond]
 * @param guidedChannels the first this-many output channels are guided; {@link #ALL} for every channel
 */
public record CfgConvention(boolean condFirst, int guidedChannels) {
    public static final int ALL = Integer.MAX_VALUE;

    /** The channels the original DiT and PixArt code guides: 3, a legacy of the original DiT code. */
    public static final int OFFICIAL_GUIDED_CHANNELS = 3;

    /** diffusers pipelines: [uncond | cond], every channel (a learned sigma is guided, then dropped). */
    public static final CfgConvention DIFFUSERS = new CfgConvention(false, ALL);
}
