package dev.viditq.nn.vae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.StrictJson;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Open-Sora 1.2's video VAE, {@code VideoAutoencoderPipeline} ({@code opensora/models/vae/vae.py}): a diffusers
 * {@link AutoencoderKL} applied frame by frame ({@code VideoAutoencoderKL}, latents scaled by its hard-coded 0.18215)
 * and a {@link TemporalVae} over the frames of those latents, cut into micro-frame chunks; latents are normalised
 * as (z − shift)/scale per channel.
 * <pre>
 *   encode(x) = cat over chunks of micro_frame_size frames: temporal_mean(0.18215 · spatial_mean(frames)), then (z − shift)/scale
 *   decode(z, F) = for each chunk of micro_z = latentFrames(micro_frame_size) latent frames, with n = min(micro_frame_size,
 *                  frames left): spatial_decode(temporal_decode(z·scale + shift, n) / 0.18215)
 * </pre>
 * Each chunk goes through the temporal VAE on its own (its GroupNorms see only that chunk, as in the official code)
 * and each of its frames through the 2-D VAE on its own, so memory is bounded by one chunk at the latent size and
 * one frame at full size, whatever the frame count: {@link #decode(Tensor, int, FrameSink)} hands frames out as they
 * are made. The weights stay memory-mapped.
 *
 * <p>A folder holds config.json (the {@code VideoAutoencoderPipelineConfig}) and model.safetensors (the pipeline's
 * state_dict: {@code spatial_vae.module.*}, {@code temporal_vae.*}, buffers {@code scale}, {@code shift}). The 2-D
 * VAE's config is {@code vae_2d.from_pretrained} when that is an object, else (a hub id, as in the released
 * config) read off its weight shapes ({@link VaeConfig#inferFromWeights}) with the default 32 groups.
 */
public final class OpenSoraVae implements LatentDecoder {
    /** {@code VideoAutoencoderKL}'s default scaling factor; the 2-D VAE config's own scaling_factor is not used. */
    static final float SPATIAL_SCALING = 0.18215f;
    private static final String SPATIAL_PREFIX = "spatial_vae.module.";
    private static final int DEFAULT_NORM_GROUPS = 32;
    private static final String TEMPORAL_PREFIX = "temporal_vae.";

    /** Receives decoded frames in order: sample by sample, frame by frame; {@code image} is F32 [3, H, W]. */
    @FunctionalInterface
    public interface FrameSink {
        void accept(int sample, int frame, Tensor image);
    }

    private final AutoencoderKL spatial;
    private final TemporalVae temporal;
    private final float spatialScaling;
    private final int microFrames;        // 0: the whole video in one chunk (micro_frame_size null)
    private final float[] scale;
    private final float[] shift;
    private final boolean normalised;     // false with cal_loss (training): latents as the temporal VAE makes them
    private final TensorFile file;

    private OpenSoraVae(JsonNode config, TensorFile file) {
        this.file = file;
        JsonNode vae2d = config.path("vae_2d");
        String type2d = vae2d.path("type").asText("VideoAutoencoderKL");
        if (!type2d.equals("VideoAutoencoderKL")) throw new IllegalArgumentException("vae_2d type '" + type2d + "' is not supported (VideoAutoencoderKL)");
        JsonNode pretrained = vae2d.path("from_pretrained");
        VaeConfig spatialConfig = pretrained.isObject() ? VaeConfig.fromJson(pretrained) : inferSpatialConfig(file);
        spatialScaling = (float) vae2d.path("scaling_factor").asDouble(SPATIAL_SCALING);
        TemporalVae.Config temporalConfig = TemporalVae.Config.fromJson(config.path("vae_temporal"));
        if (spatialConfig.latentChannels() != temporalConfig.inOutChannels()) {
            throw new IllegalArgumentException("the 2-D VAE makes " + spatialConfig.latentChannels() + " latent channels, the temporal VAE takes "
                    + temporalConfig.inOutChannels());
        }
        JsonNode micro = config.get("micro_frame_size");
        microFrames = micro == null || micro.isNull() ? 0 : micro.asInt();
        if (micro != null && !micro.isNull() && microFrames < 1) throw new IllegalArgumentException("micro_frame_size must be positive or null, is " + micro);
        normalised = !config.path("cal_loss").asBoolean(false);

        spatial = new AutoencoderKL(spatialConfig, new Weights(file, SPATIAL_PREFIX));
        Weights temporalWeights = new Weights(file, TEMPORAL_PREFIX);
        temporal = new TemporalVae(temporalConfig, temporalWeights);
        temporalWeights.finish();
        Weights top = new Weights(file);
        top.ignore("spatial_vae\\.module\\..*");
        top.ignore("temporal_vae\\..*");
        int channels = temporalConfig.embedDim();
        scale = perChannel(top, "scale", config.path("scale"), channels);
        shift = perChannel(top, "shift", config.path("shift"), channels);
        top.finish();
    }

    /** The 2-D VAE's config from its weights, with diffusers' default group count 32 (every SD / SDXL VAE's). */
    private static VaeConfig inferSpatialConfig(TensorFile file) {
        try {
            return VaeConfig.inferFromWeights(file, SPATIAL_PREFIX, DEFAULT_NORM_GROUPS);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("vae_2d.from_pretrained names no AutoencoderKL config and the weights do not fit the default "
                    + "norm_num_groups " + DEFAULT_NORM_GROUPS + " (" + e.getMessage() + "): give the AutoencoderKL config as vae_2d.from_pretrained", e);
        }
    }

    /** The pipeline in {@code dir}: config.json and its one checkpoint (model.safetensors). */
    public static OpenSoraVae load(Path dir) {
        Path configFile = dir.resolve("config.json");
        JsonNode config = StrictJson.readConfig(configFile);
        TensorFile file = Checkpoints.open(dir);
        try {
            return new OpenSoraVae(config, file);
        } catch (IllegalArgumentException e) {
            file.close();
            throw new CheckpointException(configFile, "is not a usable VideoAutoencoderPipeline: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * The buffer {@code key} of the checkpoint ([1, C, 1, 1, 1] or a scalar) — what load_state_dict leaves in the
     * model — else the config's value (a list of C or a number).
     */
    private static float[] perChannel(Weights w, String key, JsonNode fromConfig, int channels) {
        float[] v;
        if (w.has(key)) {
            v = w.takeF32(key).toFloatArray();
        } else if (fromConfig.isArray()) {
            v = new float[fromConfig.size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) fromConfig.get(i).asDouble();
        } else if (fromConfig.isNumber()) {
            v = new float[]{(float) fromConfig.asDouble()};
        } else {
            throw new IllegalArgumentException("no '" + key + "' in the checkpoint or the config");
        }
        if (v.length == 1) {
            float one = v[0];
            v = new float[channels];
            Arrays.fill(v, one);
        }
        if (v.length != channels) throw new IllegalArgumentException("'" + key + "' has " + v.length + " values for " + channels + " latent channels");
        return v;
    }

    /** Latent channels of the video latents (the temporal VAE's embed_dim). */
    @Override
    public int latentChannels() {
        return temporal.config().embedDim();
    }

    /** Pixels per latent cell along height and width (the 2-D VAE's factor). */
    public int downscale() {
        return spatial.config().downscale();
    }

    @Override
    public int pixelsPerLatent() {
        return downscale();
    }

    /** The 2-D decoder's: frames reach full resolution one at a time, through it. */
    @Override
    public int fullResolutionChannels() {
        return spatial.fullResolutionChannels();
    }

    /** Latent frames of a video of {@code frames} frames ({@code get_latent_size}): whole chunks, then the remainder. */
    @Override
    public int latentFrames(int frames) {
        if (frames < 1) throw new IllegalArgumentException("frames must be positive, got " + frames);
        if (microFrames == 0) return temporal.config().latentFrames(frames);
        int whole = frames / microFrames, rest = frames % microFrames;
        return whole * temporal.config().latentFrames(microFrames) + (rest > 0 ? temporal.config().latentFrames(rest) : 0);
    }

    /** The (per-channel) normalisation, scale and shift: z = (latent − shift)/scale. */
    public float[] scale() {
        return scale.clone();
    }

    public float[] shift() {
        return shift.clone();
    }

    /** Posterior means of a video [B, 3, T, H, W] in [-1, 1] → latents [B, C, latentFrames(T), H/f, W/f], normalised. */
    public Tensor encode(Tensor video) {
        requireVideo(video, spatial.config().inChannels(), "video");
        Tensor x = video.toF32();
        int batch = x.size(0), frames = x.size(2), f = downscale();
        int h = x.size(3) / f, w = x.size(4) / f;
        Tensor out = Tensor.zeros(batch, latentChannels(), latentFrames(frames), h, w);
        int chunk = microFrames == 0 ? frames : microFrames;
        for (int b = 0; b < batch; b++) {
            int zAt = 0;
            for (int start = 0; start < frames; start += chunk) {
                int n = Math.min(chunk, frames - start);
                try (VideoMap latents = spatialLatents(x, b, start, n, h, w); VideoMap mean = temporal.encodeMean(latents)) {
                    normalise(mean);
                    putFrames(out, b, zAt, mean);
                    zAt += mean.frames;
                }
            }
        }
        return out;
    }

    /** 0.18215 · spatial mean of frames [start, start + n) of sample b, as one clip [latent, n, h, w]. */
    private VideoMap spatialLatents(Tensor x, int b, int start, int n, int h, int w) {
        VideoMap clip = VideoMap.allocate(spatial.config().latentChannels(), n, h, w);
        for (int t = 0; t < n; t++) {
            Tensor mean = spatial.encodeMean(frame(x, b, start + t));
            for (long i = 0; i < mean.numel(); i++) mean.setFloat(i, mean.getFloat(i) * spatialScaling);
            if (mean.size(2) != h || mean.size(3) != w) {
                throw new IllegalArgumentException("frames of " + x.size(3) + "×" + x.size(4) + " are not multiples of the VAE factor " + downscale());
            }
            putPlanes(clip, t, mean);
        }
        return clip;
    }

    /**
     * Decodes latents [B, C, Tz, h, w] of a video of {@code numFrames} frames into [B, 3, F, h·f, w·f]; F is
     * numFrames when Tz = latentFrames(numFrames).
     */
    public Tensor decode(Tensor z, int numFrames) {
        requireVideo(z, latentChannels(), "latents");
        int f = downscale();
        int frames = decodedFrames(z.size(2), numFrames);
        Tensor out = Tensor.zeros(z.size(0), spatial.config().outChannels(), frames, (long) z.size(3) * f, (long) z.size(4) * f);
        decode(z, numFrames, (b, t, image) -> putFrame(out, b, t, image));
        return out;
    }

    /** What a generation pipeline calls: {@link #decode(Tensor, int)} of the sampler's video latents. */
    @Override
    public Tensor decodeLatents(Tensor latents, int frames) {
        return decode(latents, frames);
    }

    /** Streams the decoded frames of latents [B, C, Tz, h, w] to {@code sink}; see {@link #decode(Tensor, int)}. */
    public void decode(Tensor z, int numFrames, FrameSink sink) {
        requireVideo(z, latentChannels(), "latents");
        Tensor latents = z.toF32();
        int batch = latents.size(0), zFrames = latents.size(2);
        int microZ = microFrames == 0 ? zFrames : temporal.config().latentFrames(microFrames);
        decodedFrames(zFrames, numFrames); // checks the frame count before any work
        for (int b = 0; b < batch; b++) {
            int left = numFrames, frame = 0;
            for (int start = 0; start < zFrames; start += microZ) {
                int n = microFrames == 0 ? numFrames : Math.min(microFrames, left);
                try (VideoMap chunk = latentChunk(latents, b, start, Math.min(microZ, zFrames - start));
                     VideoMap decoded = temporal.decode(chunk, n)) {
                    for (int t = 0; t < decoded.frames; t++) sink.accept(b, frame++, spatialDecode(decoded, t));
                }
                left -= microFrames;
            }
        }
    }

    /** Frames the decode of {@code zFrames} latent frames for {@code numFrames} makes; an error for a mismatch that leaves a chunk no frame. */
    private int decodedFrames(int zFrames, int numFrames) {
        if (numFrames < 1) throw new IllegalArgumentException("num_frames must be positive, got " + numFrames);
        TemporalVae.Config c = temporal.config();
        if (microFrames == 0) return zFrames * c.timeFactor() - c.timePadding(numFrames);
        int microZ = c.latentFrames(microFrames), left = numFrames, total = 0;
        for (int start = 0; start < zFrames; start += microZ) {
            if (left < 1) {
                throw new IllegalArgumentException(zFrames + " latent frames hold more than " + numFrames + " frames (that takes "
                        + latentFrames(numFrames) + ")");
            }
            int n = Math.min(microFrames, left);
            total += Math.min(microZ, zFrames - start) * c.timeFactor() - c.timePadding(n);
            left -= microFrames;
        }
        return total;
    }

    /** z·scale + shift of latent frames [start, start + n) of sample b, as a clip [C, n, h, w]. */
    private VideoMap latentChunk(Tensor z, int b, int start, int n) {
        int channels = z.size(1), zFrames = z.size(2), h = z.size(3), w = z.size(4);
        VideoMap chunk = VideoMap.allocate(channels, n, h, w);
        long plane = (long) h * w;
        for (int c = 0; c < channels; c++) {
            for (int t = 0; t < n; t++) {
                long src = (((long) b * channels + c) * zFrames + start + t) * plane;
                MemorySegment dst = chunk.plane(c, t);
                for (long i = 0; i < plane; i++) {
                    dst.setAtIndex(Tensor.F32_LE, i, z.getFloat(src + i) * scale[c] + shift[c]);
                }
            }
        }
        return chunk;
    }

    /** The 2-D decode of frame t of the temporal VAE's output: decode(x_z / 0.18215) → [3, H, W]. */
    private Tensor spatialDecode(VideoMap xz, int t) {
        Tensor latent = Tensor.zeros(1, xz.channels(), xz.height, xz.width);
        long plane = (long) xz.height * xz.width;
        for (int c = 0; c < xz.channels(); c++) {
            MemorySegment src = xz.plane(c, t);
            for (long i = 0; i < plane; i++) latent.setFloat(c * plane + i, src.getAtIndex(Tensor.F32_LE, i) / spatialScaling);
        }
        Tensor image = spatial.decode(latent);
        return image.reshape(image.dim(1), image.dim(2), image.dim(3));
    }

    /** In place: (z − shift)/scale per channel (nothing with cal_loss). */
    private void normalise(VideoMap z) {
        if (!normalised) return;
        long plane = (long) z.height * z.width * z.frames;
        MemorySegment data = z.planes.data;
        for (int c = 0; c < z.channels(); c++) {
            for (long i = c * plane; i < (c + 1) * plane; i++) {
                data.setAtIndex(Tensor.F32_LE, i, (data.getAtIndex(Tensor.F32_LE, i) - shift[c]) / scale[c]);
            }
        }
    }

    /** Frame t of sample b of a video [B, C, T, H, W] as an image [1, C, H, W]. */
    private static Tensor frame(Tensor video, int b, int t) {
        int channels = video.size(1), frames = video.size(2);
        long plane = (long) video.size(3) * video.size(4), planeBytes = plane * Float.BYTES;
        Tensor image = Tensor.zeros(1, channels, video.size(3), video.size(4));
        for (int c = 0; c < channels; c++) {
            image.data().asSlice(c * planeBytes, planeBytes)
                    .copyFrom(video.data().asSlice((((long) b * channels + c) * frames + t) * planeBytes, planeBytes));
        }
        return image;
    }

    /** Writes an image [C, H, W] (or [1, C, H, W]) as frame t of sample b of {@code video} [B, C, T, H, W]. */
    private static void putFrame(Tensor video, int b, int t, Tensor image) {
        int channels = video.size(1), frames = video.size(2);
        long planeBytes = (long) video.size(3) * video.size(4) * Float.BYTES;
        for (int c = 0; c < channels; c++) {
            video.data().asSlice((((long) b * channels + c) * frames + t) * planeBytes, planeBytes)
                    .copyFrom(image.data().asSlice(c * planeBytes, planeBytes));
        }
    }

    /** The planes of an image [1, C, h, w] as frame t of {@code clip}. */
    private static void putPlanes(VideoMap clip, int t, Tensor image) {
        for (int c = 0; c < clip.channels(); c++) {
            clip.plane(c, t).copyFrom(image.data().asSlice(c * clip.planeBytes(), clip.planeBytes()));
        }
    }

    /** The frames of {@code clip} as frames [at, at + clip.frames) of sample b of {@code video}. */
    private static void putFrames(Tensor video, int b, int at, VideoMap clip) {
        int channels = video.size(1), frames = video.size(2);
        long run = clip.frames * clip.planeBytes();
        for (int c = 0; c < channels; c++) {
            video.data().asSlice((((long) b * channels + c) * frames + at) * clip.planeBytes(), run)
                    .copyFrom(clip.planes.data.asSlice(c * run, run));
        }
    }

    private static void requireVideo(Tensor t, int channels, String what) {
        if (t.rank() != 5 || t.dim(1) != channels || t.dim(0) < 1) {
            throw new IllegalArgumentException(what + " must be [batch, " + channels + ", frames, height, width], is " + Arrays.toString(t.shape()));
        }
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(what + " must be floating point, is " + t.dtype());
    }

    @Override
    public void close() {
        file.close();
    }
}
