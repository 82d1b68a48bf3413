package dev.viditq.nn.vae;

import dev.viditq.core.tensor.Tensor;

/**
 * Latents → pixels: what a generation pipeline needs of a VAE. A family's descriptor opens it from the model
 * folder's {@code vae/} ({@code ModelFamily#openVae}); the image VAE ({@link AutoencoderKL}) decodes a video frame
 * by frame, a video VAE with temporal compression says how many latent frames a clip has.
 */
public interface LatentDecoder extends AutoCloseable {
    /** Channels of the latents the denoiser works on. */
    int latentChannels();

    /**
     * Channels of the decoder's full-resolution convolutions: with the output size, what bounds its activation memory
     * (checked before a generation starts).
     */
    int fullResolutionChannels();

    /** Pixels per latent cell along height and width. */
    int pixelsPerLatent();

    /** Latent frames of a clip of {@code frames} frames (the same count for a VAE that decodes frame by frame). */
    default int latentFrames(int frames) {
        return frames;
    }

    /**
     * The sampler's output [B, C, h, w] → images [B, 3, H, W], or [B, C, f, h, w] → videos [B, 3, F, H, W];
     * values in [-1, 1], not yet clamped.
     */
    Tensor decodeLatents(Tensor latents);

    @Override
    void close();
}
