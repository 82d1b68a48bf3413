package dev.viditq.nn.vae;

import dev.viditq.core.tensor.Tensor;

/**
 * Latents → pixels: what a generation pipeline needs of a VAE. A family's descriptor opens it from the model
 * folder's {@code vae/} ({@code ModelFamily#openVae}); the image VAE ({@link AutoencoderKL}) decodes a video frame
 * by frame, a video VAE with temporal compression ({@link OpenSoraVae}) says how many latent frames a clip has.
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
     * The sampler's output [B, C, h, w] → images [B, 3, H, W] ({@code frames} 1), or [B, C, f, h, w] → videos
     * [B, 3, frames, H, W] with f = {@link #latentFrames}(frames); values in [-1, 1], not yet clamped. The frame count
     * is given because a VAE with temporal compression cannot tell it from f (17 and 18 frames may share a length).
     */
    Tensor decodeLatents(Tensor latents, int frames);

    @Override
    void close();
}
