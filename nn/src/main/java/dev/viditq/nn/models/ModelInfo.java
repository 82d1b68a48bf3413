package dev.viditq.nn.models;

/**
 * The facts about a loaded denoiser that a sampler, a pipeline or a report needs: its {@link ModelFamily} (which
 * carries everything the family decides) and the sizes its config gives. Built by the model class from its config
 * with named fields: {@code ModelInfo.builder(ModelFamily.DIT).inChannels(4).outChannels(8)...build()}.
 */
public final class ModelInfo {
    private final ModelFamily family;
    private final int inChannels, outChannels, patchSize, sampleSize, frames, hidden, depth, heads;
    private final int numClasses, captionChannels, captionTokens, imageConditionChannels;
    private final boolean microConditions;

    private ModelInfo(Builder b) {
        family = b.family;
        inChannels = positive(b.inChannels, "inChannels");
        outChannels = positive(b.outChannels, "outChannels");
        patchSize = positive(b.patchSize, "patchSize");
        sampleSize = atLeastZero(b.sampleSize, "sampleSize");
        frames = atLeastZero(b.frames, "frames");
        hidden = positive(b.hidden, "hidden");
        depth = positive(b.depth, "depth");
        heads = positive(b.heads, "heads");
        numClasses = atLeastZero(b.numClasses, "numClasses");
        captionChannels = atLeastZero(b.captionChannels, "captionChannels");
        captionTokens = atLeastZero(b.captionTokens, "captionTokens");
        microConditions = b.microConditions;
        imageConditionChannels = atLeastZero(b.imageConditionChannels, "imageConditionChannels");
        if (imageConditionChannels >= inChannels) {
            throw new IllegalArgumentException("the image condition's " + imageConditionChannels + " channels leave no latent channel of "
                    + inChannels);
        }
        if (family.classConditional() != (numClasses > 0)) {
            throw new IllegalArgumentException(family + " models are " + (family.classConditional() ? "" : "not ")
                    + "class-conditional, but numClasses is " + numClasses);
        }
        if (!family.classConditional() && captionChannels < 1) {
            throw new IllegalArgumentException(family + " models take captions: captionChannels must be positive");
        }
        if (!family.video() && frames != 1) throw new IllegalArgumentException("an image model has 1 frame, not " + frames);
    }

    /** A builder for a model of {@code family}; image models have 1 frame unless told otherwise. */
    public static Builder builder(ModelFamily family) {
        return new Builder(family);
    }

    /** The family and layout: every behaviour that follows from them. */
    public ModelFamily family() {
        return family;
    }

    /** Channels of x: the latents, and for an image-to-video model the image condition stacked after them. */
    public int inChannels() {
        return inChannels;
    }

    /** Channels of the latents the sampler denoises (and the VAE decodes): inChannels less the image condition's. */
    public int latentChannels() {
        return inChannels - imageConditionChannels;
    }

    /**
     * Image-to-video: channels of the first-frame condition (mask and VAE latents) stacked onto the latents; 0 for
     * text-to-video and image models.
     */
    public int imageConditionChannels() {
        return imageConditionChannels;
    }

    /** Generates from a given first frame (and its image-encoder states) as well as the caption. */
    public boolean imageToVideo() {
        return imageConditionChannels > 0;
    }

    /** Channels of the output; 2·inChannels when the model also predicts the variance (the first inChannels are ε). */
    public int outChannels() {
        return outChannels;
    }

    /** Spatial patch size p (latent sizes must be multiples of it). */
    public int patchSize() {
        return patchSize;
    }

    /** The latent height = width the model was configured for (input_size / sample_size); 0 when left open. */
    public int sampleSize() {
        return sampleSize;
    }

    /** The frame count it was configured for (1 for image models; 0 when left open). */
    public int frames() {
        return frames;
    }

    /** Transformer width H. */
    public int hidden() {
        return hidden;
    }

    /** Number of blocks (Latte, STDiT3: spatial/temporal pairs). */
    public int depth() {
        return depth;
    }

    public int heads() {
        return heads;
    }

    /** DiT: classes; label numClasses is the null class. 0 for text models. */
    public int numClasses() {
        return numClasses;
    }

    /** Width Dt of the caption embeddings (0 for class-conditional models). */
    public int captionChannels() {
        return captionChannels;
    }

    /**
     * Caption length the model was trained with (model_max_length; 120 PixArt-α, 300 Σ); 0 where the config does
     * not state it.
     */
    public int captionTokens() {
        return captionTokens;
    }

    /** PixArt: the model needs {@link Conditioning#imageHw()} and {@link Conditioning#aspectRatio()}. */
    public boolean microConditions() {
        return microConditions;
    }

    /** x is [B, C, T, H, W] rather than [B, C, H, W]. */
    public boolean video() {
        return family.video();
    }

    /** True when the output carries a learned variance after the ε channels. */
    public boolean learnedSigma() {
        return outChannels == 2 * inChannels;
    }

    /** The official code's guidance convention for this model run with {@code sampler}. */
    public CfgConvention guidance(String sampler) {
        return family.guidance(sampler, inChannels);
    }

    @Override
    public String toString() {
        return family.description() + ": in " + inChannels + ", out " + outChannels + ", patch " + patchSize + ", sample "
                + sampleSize + ", frames " + frames + ", hidden " + hidden + ", depth " + depth + ", heads " + heads
                + (numClasses > 0 ? ", classes " + numClasses : ", captions " + captionTokens + "×" + captionChannels)
                + (microConditions ? ", micro-conditions" : "")
                + (imageConditionChannels > 0 ? ", image condition " + imageConditionChannels + " channels" : "");
    }

    private static int positive(int v, String name) {
        if (v < 1) throw new IllegalArgumentException(name + " must be positive, is " + v);
        return v;
    }

    private static int atLeastZero(int v, String name) {
        if (v < 0) throw new IllegalArgumentException(name + " must not be negative, is " + v);
        return v;
    }

    /** Named fields of a {@link ModelInfo}; unset sizes are 0 (required ones are checked by {@link #build}). */
    public static final class Builder {
        private final ModelFamily family;
        private int inChannels, outChannels, patchSize, sampleSize, frames = 1, hidden, depth, heads;
        private int numClasses, captionChannels, captionTokens, imageConditionChannels;
        private boolean microConditions;

        private Builder(ModelFamily family) {
            this.family = java.util.Objects.requireNonNull(family, "family");
        }

        public Builder inChannels(int v) { inChannels = v; return this; }
        public Builder outChannels(int v) { outChannels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder sampleSize(int v) { sampleSize = v; return this; }
        public Builder frames(int v) { frames = v; return this; }
        public Builder hidden(int v) { hidden = v; return this; }
        public Builder depth(int v) { depth = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }
        public Builder captionChannels(int v) { captionChannels = v; return this; }
        public Builder captionTokens(int v) { captionTokens = v; return this; }
        public Builder microConditions(boolean v) { microConditions = v; return this; }
        public Builder imageConditionChannels(int v) { imageConditionChannels = v; return this; }

        public ModelInfo build() {
            return new ModelInfo(this);
        }
    }
}
