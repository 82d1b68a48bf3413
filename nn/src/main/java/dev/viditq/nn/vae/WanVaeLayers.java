package dev.viditq.nn.vae;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * The layers of Wan 2.1's causal video VAE ({@code AutoencoderKLWan}), each run chunk by chunk: a layer takes the
 * frames of one chunk (maps [C, h, w], left to the caller) and returns new maps, keeping in its feature cache what
 * the next chunk needs. {@link #reset} forgets it (a new video). Key names are diffusers'.
 */
final class WanVaeLayers {
    private WanVaeLayers() {}

    /** One stage of an encoder or decoder. */
    interface Layer extends AutoCloseable {
        List<FeatureMap> forward(List<FeatureMap> chunk);

        /** Frees the cached frames: the next chunk starts a new video. */
        @Override
        void close();
    }

    /** Closes every map of {@code frames}. */
    static void closeAll(List<FeatureMap> frames) {
        frames.forEach(FeatureMap::close);
    }

    /**
     * WanRMS_norm: x / max(‖x‖₂, 1e-12) · √C · γ over the channels of each pixel (F.normalize), optionally followed by
     * SiLU. γ is stored [C, 1, 1, 1] (or [C, 1, 1] in the attention block).
     */
    static final class RmsNorm {
        private final float[] gamma;

        RmsNorm(Weights w, String key, int channels, boolean image) {
            Tensor g = image ? w.takeF32(key + ".gamma", channels, 1, 1) : w.takeF32(key + ".gamma", channels, 1, 1, 1);
            this.gamma = g.toFloatArray();
        }

        /** A new map: norm(x), then SiLU when {@code silu}. */
        FeatureMap apply(FeatureMap x, boolean silu) {
            int c = x.channels;
            if (c != gamma.length) throw new IllegalArgumentException("RMS norm over " + gamma.length + " channels got " + x.describe());
            long pixels = x.spatial();
            FeatureMap y = FeatureMap.allocate(c, x.height, x.width);
            int block = 4096;
            int tasks = (int) Math.ceilDiv(pixels, block);
            double scale = Math.sqrt(c);
            Parallel.forEach(tasks, t -> {
                long p0 = (long) t * block;
                int n = (int) Math.min(block, pixels - p0);
                float[] row = new float[n];
                double[] sumSq = new double[n];
                for (int ch = 0; ch < c; ch++) {
                    MemorySegment.copy(x.data, F32_LE, ((long) ch * pixels + p0) * Float.BYTES, row, 0, n);
                    for (int i = 0; i < n; i++) sumSq[i] += (double) row[i] * row[i];
                }
                for (int i = 0; i < n; i++) sumSq[i] = scale / Math.max(Math.sqrt(sumSq[i]), 1e-12);
                for (int ch = 0; ch < c; ch++) {
                    long at = ((long) ch * pixels + p0) * Float.BYTES;
                    MemorySegment.copy(x.data, F32_LE, at, row, 0, n);
                    for (int i = 0; i < n; i++) row[i] = (float) (row[i] * sumSq[i] * gamma[ch]);
                    MemorySegment.copy(row, 0, y.data, F32_LE, at, n);
                }
            });
            if (silu) KernelBackend.get().silu(y.data, y.size());
            return y;
        }

        List<FeatureMap> applyAll(List<FeatureMap> frames, boolean silu) {
            List<FeatureMap> out = new ArrayList<>();
            for (FeatureMap f : frames) out.add(apply(f, silu));
            return out;
        }
    }

    /**
     * WanResidualBlock: h = conv1(SiLU(norm1(x))), h = conv2(SiLU(norm2(h))) (causal 3×3×3 convs with their caches),
     * out = h + shortcut(x), the shortcut a 1×1×1 conv when the width changes.
     */
    static final class ResidualBlock implements Layer {
        private final RmsNorm norm1, norm2;
        private final WanCausalConv3d.Stream conv1, conv2;
        private final WanCausalConv3d shortcut; // null: identity

        ResidualBlock(Weights w, String key, int in, int out) {
            norm1 = new RmsNorm(w, key + ".norm1", in, false);
            conv1 = WanCausalConv3d.load(w, key + ".conv1", in, out, 3, 3).new Stream();
            norm2 = new RmsNorm(w, key + ".norm2", out, false);
            conv2 = WanCausalConv3d.load(w, key + ".conv2", out, out, 3, 3).new Stream();
            shortcut = in != out ? WanCausalConv3d.load(w, key + ".conv_shortcut", in, out, 1, 1) : null;
        }

        @Override
        public List<FeatureMap> forward(List<FeatureMap> chunk) {
            List<FeatureMap> a = norm1.applyAll(chunk, true);
            List<FeatureMap> h = conv1.forward(a);
            closeAll(a);
            a = norm2.applyAll(h, true);
            closeAll(h);
            List<FeatureMap> y = conv2.forward(a);
            closeAll(a);
            List<FeatureMap> skip = shortcut == null ? chunk : shortcut.apply(chunk, 1);
            for (int i = 0; i < y.size(); i++) y.get(i).add(skip.get(i));
            if (shortcut != null) closeAll(skip);
            return y;
        }

        @Override
        public void close() {
            conv1.close();
            conv2.close();
        }
    }

    /**
     * WanAttentionBlock: per frame, single-head attention over the h·w positions (scale 1/√C) of RMS-normalised
     * features, to_qkv and proj being 1×1 convs (Linears here), plus the input.
     */
    static final class AttentionBlock implements Layer {
        private final RmsNorm norm;
        private final Linear qkv, proj;
        private final int channels;

        AttentionBlock(Weights w, String key, int channels) {
            this.channels = channels;
            norm = new RmsNorm(w, key + ".norm", channels, true);
            qkv = new Linear(key + ".to_qkv", w.take(key + ".to_qkv.weight", 3L * channels, channels, 1, 1).reshape(3L * channels, channels),
                    w.takeF32(key + ".to_qkv.bias", 3L * channels));
            proj = new Linear(key + ".proj", w.take(key + ".proj.weight", channels, channels, 1, 1).reshape(channels, channels),
                    w.takeF32(key + ".proj.bias", channels));
        }

        @Override
        public List<FeatureMap> forward(List<FeatureMap> chunk) {
            List<FeatureMap> out = new ArrayList<>();
            for (FeatureMap x : chunk) out.add(frame(x));
            return out;
        }

        private FeatureMap frame(FeatureMap x) {
            int n = Math.toIntExact(x.spatial()), c = channels;
            Tensor tokens = Tensor.zeros(n, c);
            try (FeatureMap normed = norm.apply(x, false)) {
                FeatureMap.transpose(normed.data, c, n, tokens.data());
            }
            Tensor fused = qkv.forward(tokens);
            Tensor attended = Tensor.zeros(n, c);
            MemorySegment f = fused.data();
            KernelBackend.get().attention(f, 3 * c, f.asSlice((long) c * Float.BYTES), 3 * c, f.asSlice(2L * c * Float.BYTES), 3 * c,
                    attended.data(), c, n, n, 1, c, (float) (1.0 / Math.sqrt(c)), AttentionBias.NONE);
            Tensor projected = proj.forward(attended);
            FeatureMap y = FeatureMap.allocate(c, x.height, x.width);
            FeatureMap.transpose(projected.data(), n, c, y.data);
            y.add(x);
            return y;
        }

        @Override
        public void close() {}
    }

    /** WanResample's modes (none: no resample layer). */
    enum Mode { UPSAMPLE_2D, UPSAMPLE_3D, DOWNSAMPLE_2D, DOWNSAMPLE_3D }

    /**
     * WanResample. Up: per frame nearest ×2 then a 3×3 conv to {@code dim/2} channels; in 3D first time_conv (3×1×1,
     * causal, to 2·dim) whose halves become frames 2i and 2i + 1 — from the second chunk on: the first chunk's frames
     * pass unchanged (and do not enter time_conv's cache). Down: per frame zero padding right and bottom, a 3×3 conv
     * at stride 2; in 3D then time_conv (3×1×1, stride 2, no padding) over the previous chunk's last frame and this
     * chunk, from the second chunk on (the first chunk's frames pass, its last frame is kept).
     */
    static final class Resample implements Layer {
        private final Mode mode;
        private final Conv2d conv;
        private final WanCausalConv3d timeConv;        // 3D modes
        private final WanCausalConv3d.Stream upStream; // UPSAMPLE_3D
        private FeatureMap lastFrame;                  // DOWNSAMPLE_3D: the previous chunk's last frame (owned)
        private boolean started;

        Resample(Weights w, String key, int dim, Mode mode) {
            this.mode = mode;
            boolean up = mode == Mode.UPSAMPLE_2D || mode == Mode.UPSAMPLE_3D;
            conv = Conv2d.load(w, key + ".resample.1", dim, up ? dim / 2 : dim, 3);
            timeConv = switch (mode) {
                case UPSAMPLE_3D -> WanCausalConv3d.load(w, key + ".time_conv", dim, 2 * dim, 3, 1);
                case DOWNSAMPLE_3D -> WanCausalConv3d.load(w, key + ".time_conv", dim, dim, 3, 1);
                default -> null;
            };
            upStream = mode == Mode.UPSAMPLE_3D ? timeConv.new Stream() : null;
        }

        @Override
        public List<FeatureMap> forward(List<FeatureMap> chunk) {
            boolean first = !started;
            started = true;
            return switch (mode) {
                case UPSAMPLE_2D -> upsample(chunk);
                case UPSAMPLE_3D -> {
                    if (first) yield upsample(chunk);
                    List<FeatureMap> doubled = doubleFrames(upStream.forward(chunk));
                    List<FeatureMap> out = upsample(doubled);
                    closeAll(doubled);
                    yield out;
                }
                case DOWNSAMPLE_2D -> downsample(chunk);
                case DOWNSAMPLE_3D -> {
                    List<FeatureMap> spatial = downsample(chunk);
                    if (first) {
                        keepLast(spatial);
                        yield spatial;
                    }
                    List<FeatureMap> sequence = new ArrayList<>();
                    sequence.add(lastFrame);
                    sequence.addAll(spatial);
                    List<FeatureMap> out = timeConv.apply(sequence, 2);
                    keepLast(spatial);
                    closeAll(spatial);
                    yield out;
                }
            };
        }

        private List<FeatureMap> upsample(List<FeatureMap> frames) {
            List<FeatureMap> out = new ArrayList<>();
            for (FeatureMap f : frames) out.add(conv.upsample(f));
            return out;
        }

        private List<FeatureMap> downsample(List<FeatureMap> frames) {
            List<FeatureMap> out = new ArrayList<>();
            for (FeatureMap f : frames) out.add(conv.downsample(f));
            return out;
        }

        /** time_conv outputs [2C, h, w] → frames (first C channels, last C channels) each, in order; closes the input. */
        private static List<FeatureMap> doubleFrames(List<FeatureMap> wide) {
            List<FeatureMap> out = new ArrayList<>();
            for (FeatureMap f : wide) {
                int c = f.channels / 2;
                long half = (long) c * f.height * f.width * Float.BYTES;
                for (int part = 0; part < 2; part++) {
                    FeatureMap g = FeatureMap.allocate(c, f.height, f.width);
                    MemorySegment.copy(f.data, part * half, g.data, 0, half);
                    out.add(g);
                }
                f.close();
            }
            return out;
        }

        private void keepLast(List<FeatureMap> frames) {
            if (lastFrame != null) lastFrame.close();
            lastFrame = WanCausalConv3d.copy(frames.getLast());
        }

        @Override
        public void close() {
            if (upStream != null) upStream.close();
            if (lastFrame != null) lastFrame.close();
            lastFrame = null;
            started = false;
        }
    }

    /** A causal conv as a stage (conv_in, conv_out), with its cache. */
    static final class CausalConv implements Layer {
        private final WanCausalConv3d.Stream stream;

        CausalConv(Weights w, String key, int in, int out) {
            stream = WanCausalConv3d.load(w, key, in, out, 3, 3).new Stream();
        }

        @Override
        public List<FeatureMap> forward(List<FeatureMap> chunk) {
            return stream.forward(chunk);
        }

        @Override
        public void close() {
            stream.close();
        }
    }

    /** The head of a coder: SiLU(RMS norm) then a causal conv. */
    static final class Head implements Layer {
        private final RmsNorm norm;
        private final CausalConv conv;

        Head(Weights w, String normKey, String convKey, int in, int out) {
            norm = new RmsNorm(w, normKey, in, false);
            conv = new CausalConv(w, convKey, in, out);
        }

        @Override
        public List<FeatureMap> forward(List<FeatureMap> chunk) {
            List<FeatureMap> a = norm.applyAll(chunk, true);
            List<FeatureMap> y = conv.forward(a);
            closeAll(a);
            return y;
        }

        @Override
        public void close() {
            conv.close();
        }
    }

    /** Stages run one after the other; intermediate maps are freed as soon as the next stage has consumed them. */
    static List<FeatureMap> run(List<Layer> layers, List<FeatureMap> chunk) {
        List<FeatureMap> x = chunk;
        for (Layer layer : layers) {
            List<FeatureMap> y = layer.forward(x);
            if (x != chunk) closeAll(x);
            x = y;
        }
        return x;
    }
}
