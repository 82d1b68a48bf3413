package dev.viditq.nn.vae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Open-Sora 1.2's {@code VAE_Temporal} ({@code opensora/models/vae/vae_temporal.py}): a MAGVIT-style VAE over the
 * frames of the 2-D VAE's latents, compressing time only (spatial stride 1), built from causal 3-D convolutions.
 * <pre>
 *   encoder: conv_in → per level i: num_res_blocks ResBlocks to filters·mult[i], then (i &lt; last) a stride-2 causal
 *            conv where temporal_downsample[i] → res_blocks → GroupNorm, SiLU → conv2 (1×1×1, 2·latent) → quant_conv
 *   decoder: post_quant_conv → conv1 → res_blocks → per level i from the last: ResBlocks, then (i &gt; 0) a causal conv
 *            doubling the channels and depth-to-space in time where temporal_downsample[i − 1] → GroupNorm, SiLU → conv_out
 * </pre>
 * {@link #encodeMean} pads the clip at the front to a multiple of the time factor 2^Σdownsample (zeros) and returns
 * the posterior mean (the first half of the moments); {@link #decode} crops the same padding from the front. GroupNorm
 * takes its statistics over all frames of the clip, so results depend on how a video is cut into clips (the
 * pipeline's micro-frame chunks).
 */
final class TemporalVae {
    /** torch's nn.GroupNorm default, which the temporal VAE keeps. */
    private static final float GROUP_NORM_EPS = 1e-5f;

    /** The {@code VAE_Temporal} constructor arguments. */
    record Config(int inOutChannels, int latentEmbedDim, int embedDim, int filters, int numResBlocks,
                  int[] channelMultipliers, boolean[] temporalDownsample, int numGroups) {
        Config {
            if (channelMultipliers.length == 0) throw new IllegalArgumentException("channel_multipliers is empty");
            if (temporalDownsample.length < channelMultipliers.length - 1) {
                throw new IllegalArgumentException("temporal_downsample has " + temporalDownsample.length + " entries for "
                        + channelMultipliers.length + " levels (needs " + (channelMultipliers.length - 1) + ")");
            }
            if (inOutChannels <= 0 || latentEmbedDim <= 0 || embedDim <= 0 || filters <= 0 || numResBlocks <= 0 || numGroups <= 0) {
                throw new IllegalArgumentException("temporal VAE sizes must be positive");
            }
        }

        /** VAE_Temporal's defaults. */
        static final Config DEFAULTS = new Config(4, 4, 4, 128, 4, new int[]{1, 2, 2, 4}, new boolean[]{true, true, false}, 32);
        /** {@code VAE_Temporal_SD}, Open-Sora 1.2's released temporal VAE (its only free arguments: groups, activation). */
        static final Config SD = new Config(4, 4, 4, 128, 4, new int[]{1, 2, 2, 4}, new boolean[]{false, true, true}, 32);

        /** Frames per latent frame: 2^(number of temporal downsamplings). */
        int timeFactor() {
            int f = 1;
            for (boolean d : temporalDownsample) if (d) f *= 2;
            return f;
        }

        /** Zero frames put before a clip of {@code frames} frames to reach a multiple of the time factor. */
        int timePadding(int frames) {
            int r = Math.floorMod(frames, timeFactor());
            return r == 0 ? 0 : timeFactor() - r;
        }

        /** Latent frames of a clip of {@code frames} frames ({@code get_latent_size}). */
        int latentFrames(int frames) {
            return (frames + timePadding(frames)) / timeFactor();
        }

        /**
         * The {@code vae_temporal} entry of a VideoAutoencoderPipeline config: {@code type} VAE_Temporal_SD (the
         * released preset) or VAE_Temporal, with any constructor argument given overriding the preset's.
         */
        static Config fromJson(JsonNode c) {
            String type = c.path("type").asText("VAE_Temporal");
            Config base = switch (type) {
                case "VAE_Temporal_SD" -> SD;
                case "VAE_Temporal" -> DEFAULTS;
                default -> throw new IllegalArgumentException("vae_temporal type '" + type + "' is not supported (VAE_Temporal_SD, VAE_Temporal)");
            };
            String activation = c.path("activation_fn").asText("swish");
            if (!activation.equals("swish")) throw new IllegalArgumentException("vae_temporal activation_fn '" + activation + "' is not supported (swish)");
            int[] mult = base.channelMultipliers;
            if (c.hasNonNull("channel_multipliers")) {
                mult = new int[c.get("channel_multipliers").size()];
                for (int i = 0; i < mult.length; i++) mult[i] = c.get("channel_multipliers").get(i).asInt();
            }
            boolean[] down = base.temporalDownsample;
            if (c.hasNonNull("temporal_downsample")) {
                down = new boolean[c.get("temporal_downsample").size()];
                for (int i = 0; i < down.length; i++) down[i] = c.get("temporal_downsample").get(i).asBoolean();
            }
            return new Config(c.path("in_out_channels").asInt(base.inOutChannels), c.path("latent_embed_dim").asInt(base.latentEmbedDim),
                    c.path("embed_dim").asInt(base.embedDim), c.path("filters").asInt(base.filters),
                    c.path("num_res_blocks").asInt(base.numResBlocks), mult, down, c.path("num_groups").asInt(base.numGroups));
        }

        @Override
        public String toString() {
            return "VAE_Temporal(in_out " + inOutChannels + ", latent " + latentEmbedDim + ", embed " + embedDim + ", filters " + filters
                    + ", res blocks " + numResBlocks + ", mult " + Arrays.toString(channelMultipliers) + ", temporal_downsample "
                    + Arrays.toString(temporalDownsample) + ", groups " + numGroups + ")";
        }
    }

    private interface Stage {
        VideoMap forward(VideoMap x);
    }

    private final Config config;
    private final List<Stage> encoder = new ArrayList<>();
    private final List<Stage> decoder = new ArrayList<>();

    /** The weights under {@code temporal_vae.} (or whatever prefix {@code w} has): encoder.*, decoder.*, quant convs. */
    TemporalVae(Config c, Weights w) {
        this.config = c;
        buildEncoder(c, w);
        buildDecoder(c, w);
    }

    Config config() {
        return config;
    }

    private int width(int level) {
        return config.filters * config.channelMultipliers[level];
    }

    private void buildEncoder(Config c, Weights w) {
        int levels = c.channelMultipliers.length;
        encoder.add(CausalConv3d.load(w, "encoder.conv_in", c.inOutChannels, c.filters, 3, 1, false)::apply);
        int in = c.filters;
        for (int i = 0; i < levels; i++) {
            int out = width(i);
            for (int j = 0; j < c.numResBlocks; j++) {
                encoder.add(resBlock(w, "encoder.block_res_blocks." + i + "." + j, in, out));
                in = out;
            }
            if (i < levels - 1 && c.temporalDownsample[i]) {
                encoder.add(CausalConv3d.load(w, "encoder.conv_blocks." + i, in, out, 3, 2, true)::apply);
            }
        }
        for (int j = 0; j < c.numResBlocks; j++) encoder.add(resBlock(w, "encoder.res_blocks." + j, in, in));
        encoder.add(normSilu(w, "encoder.norm1", in));
        encoder.add(CausalConv3d.load(w, "encoder.conv2", in, 2 * c.latentEmbedDim, 1, 1, true)::apply);
        // quant_conv's first embed_dim filters: the posterior mean (the log-variance half is never needed)
        encoder.add(CausalConv3d.load(w, "quant_conv", 2 * c.latentEmbedDim, 2 * c.embedDim, 1, 1, true).firstOutputs(c.embedDim)::apply);
    }

    private void buildDecoder(Config c, Weights w) {
        int levels = c.channelMultipliers.length;
        decoder.add(CausalConv3d.load(w, "post_quant_conv", c.embedDim, c.latentEmbedDim, 1, 1, true)::apply);
        int in = width(levels - 1);
        decoder.add(CausalConv3d.load(w, "decoder.conv1", c.latentEmbedDim, in, 3, 1, true)::apply);
        for (int j = 0; j < c.numResBlocks; j++) decoder.add(resBlock(w, "decoder.res_blocks." + j, in, in));
        for (int i = levels - 1; i >= 0; i--) {
            int out = width(i);
            for (int j = 0; j < c.numResBlocks; j++) {
                decoder.add(resBlock(w, "decoder.block_res_blocks." + i + "." + j, in, out));
                in = out;
            }
            if (i > 0 && c.temporalDownsample[i - 1]) {
                CausalConv3d up = CausalConv3d.load(w, "decoder.conv_blocks." + (i - 1), in, 2 * in, 3, 1, true);
                decoder.add(x -> {
                    try (VideoMap doubled = up.apply(x)) {
                        return depthToTime(doubled, 2);
                    }
                });
            }
        }
        decoder.add(normSilu(w, "decoder.norm1", in));
        decoder.add(CausalConv3d.load(w, "decoder.conv_out", in, c.inOutChannels, 3, 1, true)::apply);
    }

    private Stage resBlock(Weights w, String key, int in, int out) {
        return new ResBlock3d(w, key, in, out, config.numGroups, GROUP_NORM_EPS)::forward;
    }

    private Stage normSilu(Weights w, String key, int channels) {
        GroupNorm norm = GroupNorm.load(w, key, channels, config.numGroups, GROUP_NORM_EPS);
        return x -> VideoMap.of(norm.applySilu(x.planes), x.frames);
    }

    /** "B (C ts) T H W -> B C (T ts) H W": channel c·ts + s at frame t becomes channel c at frame t·ts + s. */
    static VideoMap depthToTime(VideoMap x, int ts) {
        if (x.channels() % ts != 0) throw new IllegalArgumentException("cannot spread " + x.describe() + " over " + ts + " frames");
        VideoMap y = VideoMap.allocate(x.channels() / ts, x.frames * ts, x.height, x.width);
        for (int c = 0; c < y.channels(); c++) {
            for (int t = 0; t < x.frames; t++) {
                for (int s = 0; s < ts; s++) y.plane(c, t * ts + s).copyFrom(x.plane(c * ts + s, t));
            }
        }
        return y;
    }

    /**
     * {@code encode(x).mean}: one clip [inOut, T, h, w] → [embed, latentFrames(T), h, w]; the front padding is
     * added here; {@code clip} is left to the caller.
     */
    VideoMap encodeMean(VideoMap clip) {
        requireChannels(clip, config.inOutChannels, "clip");
        int pad = config.timePadding(clip.frames);
        VideoMap padded = pad == 0 ? clip : frontPadded(clip, pad);
        try {
            return run(encoder, padded);
        } finally {
            if (padded != clip) padded.close();
        }
    }

    /** {@code decode(z, num_frames)}: [embed, Tz, h, w] → [inOut, Tz·factor − padding(numFrames), h, w]. */
    VideoMap decode(VideoMap z, int numFrames) {
        requireChannels(z, config.embedDim, "latent clip");
        int pad = config.timePadding(numFrames);
        VideoMap full = run(decoder, z);
        if (pad == 0) return full;
        try (full) {
            if (pad >= full.frames) {
                throw new IllegalArgumentException(numFrames + " frames leave nothing of the " + full.frames + " decoded from " + z.frames + " latent frames");
            }
            return frames(full, pad, full.frames);
        }
    }

    /** Runs {@code stages} on {@code x}; intermediate maps are freed, {@code x} is left to the caller. */
    private static VideoMap run(List<Stage> stages, VideoMap x) {
        VideoMap current = x;
        for (Stage s : stages) {
            VideoMap next = s.forward(current);
            if (current != x) current.close();
            current = next;
        }
        return current;
    }

    private static VideoMap frontPadded(VideoMap x, int pad) {
        VideoMap y = VideoMap.allocate(x.channels(), x.frames + pad, x.height, x.width);
        for (int c = 0; c < x.channels(); c++) copyFrames(x, c, 0, y, pad, x.frames);
        return y;
    }

    /** A new map of frames [from, to) of {@code x}. */
    static VideoMap frames(VideoMap x, int from, int to) {
        VideoMap y = VideoMap.allocate(x.channels(), to - from, x.height, x.width);
        for (int c = 0; c < x.channels(); c++) copyFrames(x, c, from, y, 0, to - from);
        return y;
    }

    /** Frames [from, from + n) of channel c of x to frames [at, at + n) of channel c of y (contiguous in both). */
    private static void copyFrames(VideoMap x, int c, int from, VideoMap y, int at, int n) {
        long plane = x.planeBytes();
        MemorySegment.copy(x.planes.data, ((long) c * x.frames + from) * plane, y.planes.data, ((long) c * y.frames + at) * plane, n * plane);
    }

    private static void requireChannels(VideoMap x, int channels, String what) {
        if (x.channels() != channels) throw new IllegalArgumentException(what + " has " + x.channels() + " channels, the temporal VAE takes " + channels);
    }
}
