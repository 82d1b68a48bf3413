package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.text.Captions;

import java.util.List;

/**
 * What to generate. Exactly one of prompts, captions and class labels selects the conditioning; every other
 * field may be null for the family's default (see {@link GenerationPipeline#defaults()}).
 *
 * @param prompts          text prompts (text models with a text encoder in the model folder)
 * @param captions         precomputed caption embeddings (text models without a text encoder)
 * @param negativeCaptions precomputed unconditional embeddings (1 or B rows); null: negative prompt, else the
 *                         model's learned null caption (original layouts), else the embedding of ""
 * @param classLabels      class labels (class-conditional DiT)
 * @param negativePrompt   text for the unconditional half, replacing "" (diffusers) or the learned null caption
 * @param steps            denoising steps
 * @param cfgScale         guidance scale s of ε = u + s·(c − u); 1 disables guidance
 * @param seed             seeds the initial noise and any per-step noise (see {@link dev.viditq.nn.sampling.SeededGaussian})
 * @param height           output height in pixels
 * @param width            output width in pixels
 * @param frames           frames of a video model (1 for image models)
 * @param sampler          a name of {@link dev.viditq.nn.sampling.Samplers#NAMES}
 * @param batching         how the two CFG halves run
 * @param image            the first frame of an image-to-video model, [1, 3, H, W] in [-1, 1]; null otherwise
 * @param fps              the frame rate a model conditioned on it is given (Open-Sora 1.2); ignored by the others
 */
public record GenerationRequest(List<String> prompts, Captions captions, Captions negativeCaptions, int[] classLabels,
                                String negativePrompt, Integer steps, Double cfgScale, long seed, Integer height,
                                Integer width, Integer frames, String sampler, GuidedModel.Batching batching, Tensor image,
                                Double fps) {

    public static Builder builder() {
        return new Builder();
    }

    /** Number of samples in the batch. */
    public int batch() {
        if (prompts != null) return prompts.size();
        if (captions != null) return captions.batch();
        if (classLabels != null) return classLabels.length;
        return 0;
    }

    public static final class Builder {
        private List<String> prompts;
        private Captions captions, negativeCaptions;
        private int[] classLabels;
        private String negativePrompt, sampler;
        private Integer steps, height, width, frames;
        private Double cfgScale, fps;
        private long seed;
        private GuidedModel.Batching batching = GuidedModel.Batching.BATCHED;
        private Tensor image;

        public Builder prompts(List<String> v) { prompts = List.copyOf(v); return this; }
        public Builder prompt(String v) { return prompts(List.of(v)); }
        public Builder captions(Captions v) { captions = v; return this; }
        public Builder negativeCaptions(Captions v) { negativeCaptions = v; return this; }
        public Builder classLabels(int... v) { classLabels = v.clone(); return this; }
        public Builder negativePrompt(String v) { negativePrompt = v; return this; }
        public Builder steps(Integer v) { steps = v; return this; }
        public Builder cfgScale(Double v) { cfgScale = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder size(Integer h, Integer w) { height = h; width = w; return this; }
        public Builder frames(Integer v) { frames = v; return this; }
        public Builder sampler(String v) { sampler = v; return this; }
        public Builder batching(GuidedModel.Batching v) { batching = v; return this; }
        public Builder image(Tensor v) { image = v; return this; }
        public Builder fps(Double v) { fps = v; return this; }

        public GenerationRequest build() {
            int given = (prompts != null ? 1 : 0) + (captions != null ? 1 : 0) + (classLabels != null ? 1 : 0);
            if (given != 1) throw new IllegalArgumentException("give exactly one of prompts, caption embeddings or class labels");
            if ((prompts != null && prompts.isEmpty()) || (classLabels != null && classLabels.length == 0)) {
                throw new IllegalArgumentException("nothing to generate: no prompts or class labels");
            }
            return new GenerationRequest(prompts, captions, negativeCaptions, classLabels, negativePrompt, steps, cfgScale,
                    seed, height, width, frames, sampler, batching, image, fps);
        }
    }
}
