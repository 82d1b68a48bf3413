package dev.viditq.nn.vae;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;

/**
 * Open-Sora's {@code CausalConv3d} ({@code opensora/models/vae/vae_temporal.py}): a 3-D convolution, weight
 * [out, in, kt, k, k] at {@code KEY.conv.weight}, temporal stride s (spatial stride 1), zero padding of k/2 around
 * each frame and of kt − s frames before the first one only, so output frame t sees input frames up to t·s and
 * never a later one.
 *
 * <p>Computed frame by frame on the 2-D convolution kernel: the kt input frames output frame t reads are gathered
 * as [in, kt, H, W], which is exactly the channel order of the stored weight seen as [out, in·kt, k, k] (a view,
 * no copy), so each output frame is one {@code conv2d}. The gather and scatter copy (in·kt + out) planes per frame
 * against in·kt·k²·out multiply-adds per pixel.
 */
final class CausalConv3d {
    final String name;
    final int in;
    final int out;
    final int timeKernel;
    final int kernel;
    final int temporalStride;
    private final Tensor weight;   // [out, in·kt, k, k] view of the stored weight
    private final Tensor bias;     // F32 [out] or null

    CausalConv3d(String name, Tensor weight5d, Tensor bias, int temporalStride) {
        if (weight5d.rank() != 5) throw new IllegalArgumentException(name + ": weight " + weight5d + " is not [out, in, kt, kh, kw]");
        int kh = weight5d.size(3), kw = weight5d.size(4);
        if (kh != kw || kh % 2 == 0) throw new IllegalArgumentException(name + ": spatial kernel " + kh + "×" + kw + " must be square and odd");
        if (temporalStride < 1 || temporalStride > weight5d.size(2)) {
            throw new IllegalArgumentException(name + ": temporal stride " + temporalStride + " with a kernel of " + weight5d.size(2) + " frames");
        }
        this.name = name;
        this.out = weight5d.size(0);
        this.in = weight5d.size(1);
        this.timeKernel = weight5d.size(2);
        this.kernel = kh;
        this.temporalStride = temporalStride;
        this.weight = weight5d.reshape(out, (long) in * timeKernel, kh, kw);
        this.bias = bias;
    }

    /** {@code KEY.conv.weight} [out, in, k, k, k] and, when {@code withBias}, {@code KEY.conv.bias}. */
    static CausalConv3d load(Weights w, String key, int in, int out, int kernel, int temporalStride, boolean withBias) {
        return new CausalConv3d(key, w.take(key + ".conv.weight", out, in, kernel, kernel, kernel),
                withBias ? w.takeF32(key + ".conv.bias", out) : null, temporalStride);
    }

    /** Frames of the output for {@code frames} input frames: ⌊(T + kt − s − kt)/s⌋ + 1 = ⌊(T − s)/s⌋ + 1. */
    int outputFrames(int frames) {
        return (frames - temporalStride) / temporalStride + 1;
    }

    /** This conv restricted to its first {@code outputs} filters (sharing memory). */
    CausalConv3d firstOutputs(int outputs) {
        Tensor w5 = weight.sliceRows(0, outputs).reshape(outputs, in, timeKernel, kernel, kernel);
        return new CausalConv3d(name, w5, bias == null ? null : bias.sliceRows(0, outputs), temporalStride);
    }

    VideoMap apply(VideoMap x) {
        if (x.channels() != in) throw new IllegalArgumentException(name + " takes " + in + " channels, got " + x.describe());
        int frames = outputFrames(x.frames);
        if (frames < 1) throw new IllegalArgumentException(name + ": " + x.frames + " frames are fewer than the stride " + temporalStride);
        int timePad = timeKernel - temporalStride;
        VideoMap y = VideoMap.allocate(out, frames, x.height, x.width);
        try (FeatureMap window = FeatureMap.allocate(in * timeKernel, x.height, x.width);
             FeatureMap result = FeatureMap.allocate(out, x.height, x.width)) {
            for (int t = 0; t < frames; t++) {
                gather(x, t * temporalStride - timePad, window);
                KernelBackend.get().conv2d(window.data, in * timeKernel, x.height, x.width, weight,
                        bias == null ? null : bias.data(), 1, kernel / 2, result.data);
                for (int c = 0; c < out; c++) {
                    y.plane(c, t).copyFrom(result.data.asSlice(c * y.planeBytes(), y.planeBytes()));
                }
            }
        }
        return y;
    }

    /** window[ci·kt + dt] = x[ci, first + dt], zero for frames before the first (the causal padding). */
    private void gather(VideoMap x, int first, FeatureMap window) {
        long plane = x.planeBytes();
        for (int ci = 0; ci < in; ci++) {
            for (int dt = 0; dt < timeKernel; dt++) {
                int f = first + dt;
                MemorySegment dst = window.data.asSlice(((long) ci * timeKernel + dt) * plane, plane);
                if (f < 0) dst.fill((byte) 0);
                else dst.copyFrom(x.plane(ci, f));
            }
        }
    }
}
