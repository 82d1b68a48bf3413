package dev.viditq.nn.models;

/**
 * The facts about a loaded denoiser that a sampler, a pipeline or a report needs, all taken from its config.
 *
 * @param family          "dit", "pixart", "stdit", "latte", "stdit3" or "wan"
 * @param layout          "original" (the research repos' keys) or "diffusers"
 * @param inChannels      latent channels of x
 * @param outChannels     channels of the output; 2·inChannels when the model also predicts the variance
 *                        (the first inChannels are ε)
 * @param video           x is [B, C, T, H, W] rather than [B, C, H, W]
 * @param patchSize       spatial patch size p (latent sizes must be multiples of it)
 * @param sampleSize      the latent height = width the model was configured for (input_size / sample_size)
 * @param frames          the frame count it was configured for (1 for image models)
 * @param hidden          transformer width H
 * @param depth           number of blocks (Latte: spatial/temporal pairs)
 * @param heads           attention heads
 * @param numClasses      DiT: classes; label numClasses is the null class. 0 for text models
 * @param captionChannels width Dt of the caption embeddings (0 for DiT)
 * @param captionTokens   caption length the model was trained with (model_max_length; 120 PixArt-α, 300 Σ);
 *                        0 where the config does not state it
 * @param microConditions PixArt: the model needs {@link Conditioning#imageHw()} and {@link Conditioning#aspectRatio()}
 * @param masking         how a caption mask is applied
 * @param videoConditions Open-Sora 1.2: the model needs {@link Conditioning#imageHw()} (video height, width in pixels)
 *                        and {@link Conditioning#fps()}
 */
public record ModelInfo(String family, String layout, int inChannels, int outChannels, boolean video, int patchSize,
                        int sampleSize, int frames, int hidden, int depth, int heads, int numClasses,
                        int captionChannels, int captionTokens, boolean microConditions, Masking masking,
                        boolean videoConditions) {
    /** Every family but Open-Sora 1.2. */
    public ModelInfo(String family, String layout, int inChannels, int outChannels, boolean video, int patchSize,
                     int sampleSize, int frames, int hidden, int depth, int heads, int numClasses,
                     int captionChannels, int captionTokens, boolean microConditions, Masking masking) {
        this(family, layout, inChannels, outChannels, video, patchSize, sampleSize, frames, hidden, depth, heads,
                numClasses, captionChannels, captionTokens, microConditions, masking, false);
    }

    /** The official code's treatment of padded caption tokens. */
    public enum Masking {
        /** Class-conditional: no caption. */
        NO_CAPTION,
        /** Original PixArt / Open-Sora: masked tokens are removed; a caption with none valid is attended by no query. */
        DROP_MASKED,
        /** diffusers PixArt: additive bias (1 - mask)·(-10000). */
        ADDITIVE_10000,
        /** diffusers Latte: no mask at all; its pipeline truncates the caption to the valid tokens instead. */
        TRUNCATE_ONLY,
        /**
         * Wan: no mask; the pipeline zeroes the caption rows past each prompt's tokens and pads to the full caption
         * length (512), and those zero rows take part in the attention (so the length matters).
         */
        ZERO_PADDED
    }

    /** True when the output carries a learned variance after the ε channels. */
    public boolean learnedSigma() {
        return outChannels == 2 * inChannels;
    }
}
