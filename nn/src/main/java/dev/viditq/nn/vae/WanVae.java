package dev.viditq.nn.vae;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.RenamedTensorFile;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;
import dev.viditq.nn.vae.WanVaeLayers.Layer;
import dev.viditq.nn.vae.WanVaeLayers.Mode;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Wan 2.1's causal video VAE, diffusers' {@code AutoencoderKLWan}: {@link #decode} = {@code decode(z).sample},
 * {@link #encodeMean} = {@code encode(x).latent_dist.mean}, run chunk by chunk with the feature cache as the official
 * code does it: the encoder takes frame 0 alone, then chunks of {@link #temporalFactor()} frames (each gives one
 * latent frame; frames past the last whole chunk are dropped); the decoder takes one latent frame at a time (the first
 * gives 1 frame, each later one temporalFactor frames). Every causal conv keeps only the last two frames it saw, so
 * memory stays bounded in the frame count, and {@link #decode(Tensor, FrameSink)} hands frames out as they are made.
 * The output is clamped to [-1, 1]. Samples run one at a time; one call at a time.
 *
 * <p>The original repository's checkpoint (Wan2.1_VAE.pth key names) loads through {@link WanVaeOriginalKeys}.
 *
 * <p>As a pipeline's {@link LatentDecoder} it takes the sampler's latents, which WanPipeline keeps normalised by the
 * per-channel latents_mean / latents_std: {@link #decodeLatents} undoes that first ({@link #decodeScaled}).
 */
public final class WanVae implements LatentDecoder {
    /** Receives decoded frames in order: sample, frame index, F32 [out_channels, H, W] in [-1, 1]. */
    @FunctionalInterface
    public interface FrameSink {
        void accept(int sample, int frame, Tensor rgb);
    }

    private final WanVaeConfig config;
    private final List<Layer> encoder = new ArrayList<>();
    private final List<Layer> decoder = new ArrayList<>();
    private final WanCausalConv3d quantConvMean; // quant_conv's first z_dim filters
    private final WanCausalConv3d postQuantConv;
    private final TensorFile file;

    private WanVae(WanVaeConfig config, Weights w, TensorFile file) {
        this.config = config;
        this.file = file;
        int z = config.zDim();
        buildEncoder(w);
        buildDecoder(w);
        WanCausalConv3d quant = WanCausalConv3d.load(w, "quant_conv", 2 * z, 2 * z, 1, 1);
        quantConvMean = quant.firstOutputs(z);
        postQuantConv = WanCausalConv3d.load(w, "post_quant_conv", z, z, 1, 1);
        w.finish();
    }

    /**
     * The VAE in {@code dir}: config.json and its checkpoint; a diffusers pipeline's {@code vae/} folder is looked into.
     * A checkpoint with the original repository's key names (encoder.conv1, decoder.upsamples.N, ...) is renamed on load;
     * without a config.json it is taken to be the released Wan 2.1 VAE (Wan2.1_VAE.pth).
     */
    public static WanVae load(Path dir) {
        if (Files.isRegularFile(dir)) return loadOriginal(dir);
        if (!Files.isRegularFile(dir.resolve("config.json")) && Files.isDirectory(dir.resolve("vae"))) dir = dir.resolve("vae");
        TensorFile file = Checkpoints.open(Checkpoints.findIn(dir));
        try {
            // the original release ships Wan2.1_VAE.pth alone: its architecture is the constructor's defaults
            boolean configured = Files.isRegularFile(dir.resolve("config.json"));
            if (!configured && !WanVaeOriginalKeys.isOriginal(file.names())) {
                throw new IllegalArgumentException(dir + ": no config.json for this VAE checkpoint");
            }
            WanVaeConfig config = configured ? WanVaeConfig.load(dir.resolve("config.json")) : WanVaeConfig.wan21();
            return load(config, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The checkpoint file of the original release (Wan2.1_VAE.pth), which comes without a config: Wan 2.1's sizes. */
    private static WanVae loadOriginal(Path checkpoint) {
        TensorFile file = Checkpoints.open(checkpoint);
        try {
            if (!WanVaeOriginalKeys.isOriginal(file.names())) {
                throw new IllegalArgumentException(checkpoint + ": a VAE checkpoint without a config.json must be the original "
                        + "Wan2.1_VAE.pth (encoder.conv1, decoder.upsamples.N, ...); give the folder holding config.json");
            }
            return load(WanVaeConfig.wan21(), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Builds the VAE from an open checkpoint, which it then owns. */
    public static WanVae load(WanVaeConfig config, TensorFile file) {
        TensorFile view = WanVaeOriginalKeys.isOriginal(file.names())
                ? new RenamedTensorFile(file, key -> WanVaeOriginalKeys.toDiffusers(key, config)) : file;
        return new WanVae(config, new Weights(view), view);
    }

    public WanVaeConfig config() {
        return config;
    }

    /**
     * Every tensor of a checkpoint of this configuration (diffusers names) → shape, in the order the builders take
     * them: what a random-weight checkpoint of real shapes must hold.
     */
    public static Map<String, long[]> checkpointShapes(WanVaeConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        int[] enc = c.encoderDims(), dec = c.decoderDims();
        int levels = c.dimMult().length, z = c.zDim();
        conv(s, "encoder.conv_in", c.inChannels(), enc[0], 3, 3);
        int index = 0;
        double scale = 1.0;
        for (int i = 0; i < levels; i++) {
            int in = enc[i], out = enc[i + 1];
            for (int r = 0; r < c.numResBlocks(); r++) {
                residual(s, "encoder.down_blocks." + index++, in, out);
                for (double a : c.attnScales()) if (a == scale) attention(s, "encoder.down_blocks." + index++, out);
                in = out;
            }
            if (i != levels - 1) {
                String key = "encoder.down_blocks." + index++;
                conv2d(s, key + ".resample.1", out, out);
                if (c.temporalDownsample()[i]) conv(s, key + ".time_conv", out, out, 3, 1);
                scale /= 2;
            }
        }
        middle(s, "encoder.mid_block", enc[levels]);
        s.put("encoder.norm_out.gamma", new long[]{enc[levels], 1, 1, 1});
        conv(s, "encoder.conv_out", enc[levels], 2 * z, 3, 3);
        conv(s, "decoder.conv_in", z, dec[0], 3, 3);
        middle(s, "decoder.mid_block", dec[0]);
        for (int i = 0; i < levels; i++) {
            int in = i > 0 ? dec[i] / 2 : dec[i], out = dec[i + 1];
            for (int r = 0; r <= c.numResBlocks(); r++) {
                residual(s, "decoder.up_blocks." + i + ".resnets." + r, in, out);
                in = out;
            }
            if (i != levels - 1) {
                String key = "decoder.up_blocks." + i + ".upsamplers.0";
                if (c.temporalDownsample()[levels - 2 - i]) conv(s, key + ".time_conv", out, 2 * out, 3, 1);
                conv2d(s, key + ".resample.1", out, out / 2);
            }
        }
        s.put("decoder.norm_out.gamma", new long[]{dec[levels], 1, 1, 1});
        conv(s, "decoder.conv_out", dec[levels], c.outChannels(), 3, 3);
        conv(s, "quant_conv", 2 * z, 2 * z, 1, 1);
        conv(s, "post_quant_conv", z, z, 1, 1);
        return s;
    }

    private static void conv(Map<String, long[]> s, String key, int in, int out, int depth, int kernel) {
        s.put(key + ".weight", new long[]{out, in, depth, kernel, kernel});
        s.put(key + ".bias", new long[]{out});
    }

    private static void conv2d(Map<String, long[]> s, String key, int in, int out) {
        s.put(key + ".weight", new long[]{out, in, 3, 3});
        s.put(key + ".bias", new long[]{out});
    }

    private static void residual(Map<String, long[]> s, String key, int in, int out) {
        s.put(key + ".norm1.gamma", new long[]{in, 1, 1, 1});
        conv(s, key + ".conv1", in, out, 3, 3);
        s.put(key + ".norm2.gamma", new long[]{out, 1, 1, 1});
        conv(s, key + ".conv2", out, out, 3, 3);
        if (in != out) conv(s, key + ".conv_shortcut", in, out, 1, 1);
    }

    private static void attention(Map<String, long[]> s, String key, int dim) {
        s.put(key + ".norm.gamma", new long[]{dim, 1, 1});
        s.put(key + ".to_qkv.weight", new long[]{3L * dim, dim, 1, 1});
        s.put(key + ".to_qkv.bias", new long[]{3L * dim});
        s.put(key + ".proj.weight", new long[]{dim, dim, 1, 1});
        s.put(key + ".proj.bias", new long[]{dim});
    }

    private static void middle(Map<String, long[]> s, String key, int dim) {
        residual(s, key + ".resnets.0", dim, dim);
        attention(s, key + ".attentions.0", dim);
        residual(s, key + ".resnets.1", dim, dim);
    }

    /** Video frames per latent frame after the first (4 in Wan 2.1). */
    public int temporalFactor() {
        return config.temporalFactor();
    }

    @Override
    public int latentChannels() {
        return config.zDim();
    }

    @Override
    public int fullResolutionChannels() {
        int[] dims = config.decoderDims();
        return dims[dims.length - 1];
    }

    @Override
    public int pixelsPerLatent() {
        return config.spatialFactor();
    }

    /**
     * 1 + (frames − 1) / f: the first frame alone, then one latent frame per f frames. A clip of another length has
     * no latent of its own (the decoder gives 1 + f·k frames), so it is refused, naming the nearest lengths.
     */
    @Override
    public int latentFrames(int frames) {
        int f = temporalFactor();
        if (frames < 1 || (frames - 1) % f != 0) {
            int below = Math.max(1, 1 + (frames - 1) / f * f);
            throw new IllegalArgumentException("this VAE makes clips of 1 + " + f + "·k frames (its temporal factor is " + f + "): "
                    + frames + " frames is not one; use " + (below == frames ? below + f : below + " or " + (below + f)));
        }
        return 1 + (frames - 1) / f;
    }

    /** The pipeline's last step: {@link #decodeScaled}; {@code frames} must be the clip the latents hold. */
    @Override
    public Tensor decodeLatents(Tensor latents, int frames) {
        if (latents.rank() == 5 && latentFrames(frames) != latents.size(2)) {
            throw new IllegalArgumentException(latents.size(2) + " latent frames do not hold a clip of " + frames + " frames (that takes "
                    + latentFrames(frames) + ")");
        }
        return decodeLatents(latents);
    }

    /** {@link #decodeScaled}: the clip the latents hold (1 + f·(latent frames − 1) frames). */
    public Tensor decodeLatents(Tensor latents) {
        return decodeScaled(latents);
    }

    private void buildEncoder(Weights w) {
        int[] dims = config.encoderDims();
        encoder.add(new WanVaeLayers.CausalConv(w, "encoder.conv_in", config.inChannels(), dims[0]));
        int index = 0;
        double scale = 1.0;
        int levels = config.dimMult().length;
        for (int i = 0; i < levels; i++) {
            int in = dims[i], out = dims[i + 1];
            for (int r = 0; r < config.numResBlocks(); r++) {
                encoder.add(new WanVaeLayers.ResidualBlock(w, "encoder.down_blocks." + index++, in, out));
                if (hasAttention(scale)) encoder.add(new WanVaeLayers.AttentionBlock(w, "encoder.down_blocks." + index++, out));
                in = out;
            }
            if (i != levels - 1) {
                Mode mode = config.temporalDownsample()[i] ? Mode.DOWNSAMPLE_3D : Mode.DOWNSAMPLE_2D;
                encoder.add(new WanVaeLayers.Resample(w, "encoder.down_blocks." + index++, out, mode));
                scale /= 2;
            }
        }
        addMiddle(encoder, w, "encoder.mid_block", dims[levels]);
        encoder.add(new WanVaeLayers.Head(w, "encoder.norm_out", "encoder.conv_out", dims[levels], 2 * config.zDim()));
    }

    private void buildDecoder(Weights w) {
        int[] dims = config.decoderDims();
        int levels = config.dimMult().length;
        decoder.add(new WanVaeLayers.CausalConv(w, "decoder.conv_in", config.zDim(), dims[0]));
        addMiddle(decoder, w, "decoder.mid_block", dims[0]);
        for (int i = 0; i < levels; i++) {
            int in = i > 0 ? dims[i] / 2 : dims[i], out = dims[i + 1]; // each upsampling conv halves the width
            String block = "decoder.up_blocks." + i;
            for (int r = 0; r <= config.numResBlocks(); r++) {
                decoder.add(new WanVaeLayers.ResidualBlock(w, block + ".resnets." + r, in, out));
                in = out;
            }
            if (i != levels - 1) {
                boolean temporal = config.temporalDownsample()[levels - 2 - i]; // the encoder's, mirrored
                decoder.add(new WanVaeLayers.Resample(w, block + ".upsamplers.0", out, temporal ? Mode.UPSAMPLE_3D : Mode.UPSAMPLE_2D));
            }
        }
        decoder.add(new WanVaeLayers.Head(w, "decoder.norm_out", "decoder.conv_out", dims[levels], config.outChannels()));
    }

    private boolean hasAttention(double scale) {
        for (double s : config.attnScales()) if (s == scale) return true;
        return false;
    }

    private static void addMiddle(List<Layer> layers, Weights w, String key, int dim) {
        layers.add(new WanVaeLayers.ResidualBlock(w, key + ".resnets.0", dim, dim));
        layers.add(new WanVaeLayers.AttentionBlock(w, key + ".attentions.0", dim));
        layers.add(new WanVaeLayers.ResidualBlock(w, key + ".resnets.1", dim, dim));
    }

    /** {@code decode(z).sample}: latents [B, z_dim, T, h, w] → video [B, out, 1 + f·(T − 1), 8h, 8w] in [-1, 1]. */
    public synchronized Tensor decode(Tensor z) {
        long[] shape = checkVideo(z, config.zDim(), "latent");
        int batch = (int) shape[0], frames = 1 + temporalFactor() * ((int) shape[2] - 1);
        int f = config.spatialFactor();
        Tensor out = Tensor.zeros(batch, config.outChannels(), frames, shape[3] * f, shape[4] * f);
        decode(z, (b, t, rgb) -> putFrame(out, b, t, rgb));
        return out;
    }

    /** {@link #decode(Tensor)} handing each frame to {@code sink} as soon as it is decoded. */
    public synchronized void decode(Tensor latents, FrameSink sink) {
        long[] shape = checkVideo(latents, config.zDim(), "latent");
        Tensor z = latents.toF32();
        for (int b = 0; b < shape[0]; b++) {
            int next = 0;
            try {
                for (int t = 0; t < shape[2]; t++) {
                    List<FeatureMap> latent;
                    try (FeatureMap frame = frame(z, b, t)) {
                        latent = postQuantConv.apply(Arrays.asList(frame), 1);
                    }
                    List<FeatureMap> decoded = WanVaeLayers.run(decoder, latent);
                    WanVaeLayers.closeAll(latent);
                    for (FeatureMap m : decoded) {
                        sink.accept(b, next++, clamped(m));
                        m.close();
                    }
                }
            } finally {
                decoder.forEach(Layer::close);
            }
        }
    }

    /**
     * WanPipeline's last step: latents / (1 / latents_std) + latents_mean per channel (the official arithmetic,
     * float32 statistics, float64 here), then {@link #decode(Tensor)}.
     */
    public Tensor decodeScaled(Tensor latents) {
        return decode(unscale(latents));
    }

    /** latents / (1 / std) + mean per channel of [B, z_dim, ...]. */
    public Tensor unscale(Tensor latents) {
        long[] shape = checkVideo(latents, config.zDim(), "latent");
        Tensor out = latents.toF32().copy();
        long perChannel = shape[2] * shape[3] * shape[4];
        for (int b = 0; b < shape[0]; b++) {
            for (int c = 0; c < config.zDim(); c++) {
                double stdInv = 1f / config.latentsStd()[c], mean = config.latentsMean()[c];
                long base = ((long) b * config.zDim() + c) * perChannel;
                for (long i = 0; i < perChannel; i++) out.setFloat(base + i, (float) (out.getFloat(base + i) / stdInv + mean));
            }
        }
        return out;
    }

    /**
     * {@code encode(x).latent_dist.mean}: video [B, in, T, H, W] → [B, z_dim, 1 + (T − 1)/f, H/8, W/8] (frames past
     * the last whole chunk of f are not encoded, as in the official code).
     */
    public synchronized Tensor encodeMean(Tensor video) {
        long[] shape = checkVideo(video, config.inChannels(), "video");
        Tensor x = video.toF32();
        int batch = (int) shape[0], f = temporalFactor(), chunks = 1 + ((int) shape[2] - 1) / f;
        Tensor out = null;
        for (int b = 0; b < batch; b++) {
            int next = 0;
            try {
                for (int c = 0; c < chunks; c++) {
                    int from = c == 0 ? 0 : 1 + f * (c - 1), to = c == 0 ? 1 : 1 + f * c;
                    List<FeatureMap> chunk = new ArrayList<>();
                    for (int t = from; t < to; t++) chunk.add(frame(x, b, t));
                    List<FeatureMap> encoded = WanVaeLayers.run(encoder, chunk);
                    WanVaeLayers.closeAll(chunk);
                    List<FeatureMap> mean = quantConvMean.apply(encoded, 1);
                    WanVaeLayers.closeAll(encoded);
                    for (FeatureMap m : mean) {
                        if (out == null) out = Tensor.zeros(batch, config.zDim(), chunks, m.height, m.width);
                        putFrame(out, b, next++, m.asTensor(m.channels, m.height, m.width));
                        m.close();
                    }
                }
            } finally {
                encoder.forEach(Layer::close);
            }
        }
        return out;
    }

    private static long[] checkVideo(Tensor t, int channels, String what) {
        if (t.rank() != 5 || t.dim(1) != channels || t.dim(2) < 1) {
            throw new IllegalArgumentException("the Wan VAE takes a " + what + " [B, " + channels + ", T, H, W], got " + t);
        }
        return t.shape();
    }

    /** Frame t of sample b of F32 [B, C, T, H, W], as a new map [C, H, W]. */
    private static FeatureMap frame(Tensor v, int b, int t) {
        int c = v.size(1), frames = v.size(2), h = v.size(3), w = v.size(4);
        long plane = (long) h * w * Float.BYTES;
        FeatureMap m = FeatureMap.allocate(c, h, w);
        for (int ch = 0; ch < c; ch++) {
            MemorySegment.copy(v.data(), (((long) b * c + ch) * frames + t) * plane, m.data, ch * plane, plane);
        }
        return m;
    }

    /** Writes [C, H, W] as frame t of sample b of [B, C, T, H, W]. */
    private static void putFrame(Tensor video, int b, int t, Tensor frame) {
        int c = video.size(1), frames = video.size(2);
        long plane = frame.dim(1) * frame.dim(2) * Float.BYTES;
        for (int ch = 0; ch < c; ch++) {
            MemorySegment.copy(frame.data(), ch * plane, video.data(), (((long) b * c + ch) * frames + t) * plane, plane);
        }
    }

    /** A new F32 [C, H, W] tensor of the map clamped to [-1, 1]. */
    private static Tensor clamped(FeatureMap m) {
        Tensor t = Tensor.zeros(m.channels, m.height, m.width);
        for (long i = 0; i < m.size(); i++) {
            float v = m.data.getAtIndex(F32_LE, i);
            t.data().setAtIndex(F32_LE, i, Math.max(-1f, Math.min(1f, v)));
        }
        return t;
    }

    @Override
    public void close() {
        encoder.forEach(Layer::close);
        decoder.forEach(Layer::close);
        file.close();
    }
}
