package dev.viditq.nn.models;

import dev.viditq.core.tensor.Tensor;

/**
 * What a {@link Denoiser} is conditioned on besides the latent and the timestep. A class-conditional model (DiT)
 * reads {@code classLabels}; a text-conditional one reads {@code caption} (+ mask, + PixArt micro-conditions).
 * Batch sizes must equal the latent's; masks and micro-conditions may instead have a number of rows that tiles the
 * batch (the original repos' {@code mask.repeat}, used for the CFG batch).
 *
 * @param classLabels integer labels [B] (any integer or float dtype); label {@link ModelInfo#numClasses()} is the
 *                    learned null class
 * @param caption     caption embeddings [B, L, Dt] (the original repos' [B, 1, L, Dt] is accepted), any float dtype
 * @param captionMask [B, L] or [B, 1, 1, L]; non-zero = valid token; null = every token valid. How masked tokens are
 *                    excluded follows the family's official code ({@link ModelFamily#masking()})
 * @param imageHw     PixArt micro-condition: [B, 2] image height and width in pixels (not latent cells); also
 *                    Open-Sora 1.2's height/width, which set its positional-embedding scale
 * @param aspectRatio PixArt micro-condition: [B, 1] (or [B]) height / width
 * @param fps         Open-Sora 1.2 (STDiT3): frames per second [B] (or [1]); null for the other families
 * @param imageStates an image-to-video model's image-encoder states [B, N, Di] (Wan I2V: CLIP ViT-H/14's
 *                    penultimate layer); null for the others
 */
public record Conditioning(Tensor classLabels, Tensor caption, Tensor captionMask, Tensor imageHw, Tensor aspectRatio,
                           Tensor fps, Tensor imageStates) {
    public Conditioning(Tensor classLabels, Tensor caption, Tensor captionMask, Tensor imageHw, Tensor aspectRatio) {
        this(classLabels, caption, captionMask, imageHw, aspectRatio, null, null);
    }

    public Conditioning(Tensor classLabels, Tensor caption, Tensor captionMask, Tensor imageHw, Tensor aspectRatio, Tensor fps) {
        this(classLabels, caption, captionMask, imageHw, aspectRatio, fps, null);
    }

    /** DiT: one class label per sample. */
    public static Conditioning classLabels(Tensor labels) {
        return new Conditioning(labels, null, null, null, null);
    }

    /** Text models: caption embeddings and an optional mask (null: every token valid). */
    public static Conditioning caption(Tensor embeddings, Tensor mask) {
        return new Conditioning(null, embeddings, mask, null, null);
    }

    /** The same conditioning plus PixArt's resolution and aspect-ratio micro-conditions. */
    public Conditioning withMicroConditions(Tensor imageHw, Tensor aspectRatio) {
        return new Conditioning(classLabels, caption, captionMask, imageHw, aspectRatio, fps, imageStates);
    }

    /** The same conditioning plus an image-to-video model's image-encoder states. */
    public Conditioning withImageStates(Tensor states) {
        return new Conditioning(classLabels, caption, captionMask, imageHw, aspectRatio, fps, states);
    }

    /**
     * Open-Sora 1.2: the video's height and width in pixels ([B, 2] or [1, 2]; only the first row is used, as
     * the official code does) and its frame rate [B].
     */
    public Conditioning withVideoConditions(Tensor heightWidth, Tensor fps) {
        return new Conditioning(classLabels, caption, captionMask, heightWidth, aspectRatio, fps, imageStates);
    }
}
