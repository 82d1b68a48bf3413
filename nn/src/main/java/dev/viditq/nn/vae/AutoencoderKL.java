package dev.viditq.nn.vae;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * diffusers {@code AutoencoderKL} (the SD / SDXL image VAE, also used frame by frame for video):
 * {@link #decode} = {@code decode(z).sample}, {@link #encodeMean} = {@code encode(x).latent_dist.mean}.
 * Samples run one at a time; every intermediate map is freed as soon as the next layer has consumed it, and
 * upsampling convs work band by band, so decoding a 64×64 latent (512 px, SD widths) peaks at a few hundred MB of
 * activations rather than accumulating gigabytes.
 */
public final class AutoencoderKL implements LatentDecoder {
    private final VaeConfig config;
    private final List<VaeCoders.Stage> encoder;
    private final List<VaeCoders.Stage> decoder;
    private final Conv2d quantConvMean;   // quant_conv's first latent filters (the mean), or null
    private final Conv2d postQuantConv;   // or null
    private final TensorFile file;        // closed with this VAE when it opened it

    public AutoencoderKL(VaeConfig config, Weights weights) {
        this(config, weights, null);
    }

    private AutoencoderKL(VaeConfig config, Weights w, TensorFile owned) {
        this.config = config;
        this.file = owned;
        int latent = config.latentChannels();
        encoder = VaeCoders.encoder(config, w);
        decoder = VaeCoders.decoder(config, w);
        quantConvMean = config.useQuantConv() ? Conv2d.load(w, "quant_conv", 2 * latent, 2 * latent, 1).firstOutputs(latent) : null;
        postQuantConv = config.usePostQuantConv() ? Conv2d.load(w, "post_quant_conv", latent, latent, 1) : null;
        w.finish();
    }

    /**
     * The VAE in {@code dir}: config.json and diffusion_pytorch_model.safetensors (or any checkpoint
     * {@link Checkpoints} finds). A diffusers pipeline's {@code vae/} folder is looked into.
     */
    public static AutoencoderKL load(Path dir) {
        if (!Files.isRegularFile(dir.resolve("config.json")) && Files.isDirectory(dir.resolve("vae"))) dir = dir.resolve("vae");
        VaeConfig config = VaeConfig.load(dir.resolve("config.json"));
        TensorFile file = Checkpoints.open(dir);
        try {
            return new AutoencoderKL(config, new Weights(file), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public int latentChannels() {
        return config.latentChannels();
    }

    @Override
    public int fullResolutionChannels() {
        return config.blockOutChannels().getFirst();
    }

    @Override
    public int pixelsPerLatent() {
        return config.downscale();
    }

    public VaeConfig config() {
        return config;
    }

    /** {@code decode(z).sample}: latents [B, latent, h, w] (no scaling applied) → images [B, out, h·f, w·f]. */
    public Tensor decode(Tensor z) {
        checkInput(z, config.latentChannels(), "latent");
        return perSample(z, x -> {
            if (postQuantConv == null) return VaeCoders.run(decoder, x);
            try (FeatureMap q = postQuantConv.apply(x)) {
                return VaeCoders.run(decoder, q);
            }
        });
    }

    /**
     * {@code encode(x).latent_dist.mean}: images [B, in, H, W] → [B, latent, H/f, W/f] (each downsampling maps
     * n rows to ⌊(n − 2)/2⌋ + 1, i.e. n/2 for even n).
     */
    public Tensor encodeMean(Tensor images) {
        checkInput(images, config.inChannels(), "image");
        int latent = config.latentChannels();
        return perSample(images, x -> {
            try (FeatureMap moments = VaeCoders.run(encoder, x)) {
                if (quantConvMean != null) return quantConvMean.apply(moments);
                FeatureMap mean = FeatureMap.allocate(latent, moments.height, moments.width);
                MemorySegment.copy(moments.data, 0, mean.data, 0, mean.data.byteSize()); // the first latent channels
                return mean;
            }
        });
    }

    /**
     * What a pipeline calls on the sampler's output: {@code decode(latents / scaling_factor + shift_factor)}; the
     * frames of video latents [B, C, F, h, w] are decoded as a batch of images.
     */
    @Override
    public Tensor decodeLatents(Tensor latents, int frames) {
        int expected = latents.rank() == 5 ? latents.size(2) : 1;
        if (frames != expected) {
            throw new IllegalArgumentException("latents " + Arrays.toString(latents.shape()) + " decode frame by frame into "
                    + expected + " frame(s), not " + frames);
        }
        return decodeLatents(latents);
    }

    /** {@link #decodeLatents(Tensor, int)} with the frame count the latents have. */
    public Tensor decodeLatents(Tensor latents) {
        if (latents.rank() == 5) return batchToFrames(decodeLatents(framesToBatch(latents)), latents.size(2));
        Tensor z = latents.toF32().copy();
        float inv = 1f / config.scalingFactor(), shift = config.shiftFactor();
        for (long i = 0, n = z.numel(); i < n; i++) z.setFloat(i, z.getFloat(i) * inv + shift);
        return decode(z);
    }

    /** Latents for images in [-1, 1]: {@code (mean - shift_factor) · scaling_factor}. */
    public Tensor encodeLatents(Tensor images) {
        Tensor mean = encodeMean(images);
        float scale = config.scalingFactor(), shift = config.shiftFactor();
        for (long i = 0, n = mean.numel(); i < n; i++) mean.setFloat(i, (mean.getFloat(i) - shift) * scale);
        return mean;
    }

    private interface SampleFn {
        FeatureMap apply(FeatureMap x);
    }

    /** Runs {@code fn} on each sample of [B, C, H, W] and stacks the outputs into one new tensor. */
    private static Tensor perSample(Tensor batch, SampleFn fn) {
        Tensor in = batch.toF32();
        int b = in.size(0), c = in.size(1), h = in.size(2), w = in.size(3);
        long sampleBytes = (long) c * h * w * Float.BYTES;
        Tensor out = null;
        for (int i = 0; i < b; i++) {
            FeatureMap x = FeatureMap.view(in.data().asSlice(i * sampleBytes, sampleBytes), c, h, w);
            try (FeatureMap y = fn.apply(x)) {
                if (out == null) out = Tensor.zeros(b, y.channels, y.height, y.width);
                long bytes = y.data.byteSize();
                MemorySegment.copy(y.data, 0, out.data(), i * bytes, bytes);
            }
        }
        return out;
    }

    /** [B, C, F, H, W] → [B·F, C, H, W] (frames as a batch of images). */
    private static Tensor framesToBatch(Tensor video) {
        int b = video.size(0), c = video.size(1), f = video.size(2), h = video.size(3), w = video.size(4);
        Tensor out = Tensor.zeros(video.dtype(), (long) b * f, c, h, w);
        long plane = video.dtype().byteSize((long) h * w);
        for (int i = 0; i < b; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int fr = 0; fr < f; fr++) {
                    long src = (((long) i * c + ch) * f + fr) * plane;
                    long dst = (((long) i * f + fr) * c + ch) * plane;
                    MemorySegment.copy(video.data(), src, out.data(), dst, plane);
                }
            }
        }
        return out;
    }

    /** [B·F, C, H, W] → [B, C, F, H, W], the inverse of {@link #framesToBatch}. */
    private static Tensor batchToFrames(Tensor images, int frames) {
        int bf = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
        if (bf % frames != 0) throw new IllegalArgumentException(bf + " images are not a whole number of " + frames + "-frame videos");
        int b = bf / frames;
        Tensor out = Tensor.zeros(images.dtype(), b, c, frames, h, w);
        long plane = images.dtype().byteSize((long) h * w);
        for (int i = 0; i < b; i++) {
            for (int fr = 0; fr < frames; fr++) {
                for (int ch = 0; ch < c; ch++) {
                    long src = (((long) i * frames + fr) * c + ch) * plane;
                    long dst = (((long) i * c + ch) * frames + fr) * plane;
                    MemorySegment.copy(images.data(), src, out.data(), dst, plane);
                }
            }
        }
        return out;
    }

    private static void checkInput(Tensor t, int channels, String what) {
        if (t.rank() != 4 || t.dim(1) != channels || t.dim(0) < 1) {
            throw new IllegalArgumentException(what + " must be [batch, " + channels + ", height, width], is "
                    + Arrays.toString(t.shape()));
        }
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(what + " must be floating point, is " + t.dtype());
    }

    @Override
    public void close() {
        if (file != null) file.close();
    }
}
