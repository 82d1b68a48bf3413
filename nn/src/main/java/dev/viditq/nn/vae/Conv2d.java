package dev.viditq.nn.vae;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * A square-kernel convolution with bias, weight [out, in, k, k] used as stored. Besides the plain call it has the
 * two resampling forms of the diffusers VAE: nearest 2x upsampling followed by this (3x3) conv, done band by band so
 * the 4x larger upsampled input never exists whole, and stride-2 downsampling after zero padding of one row and
 * one column at the bottom/right only (diffusers' {@code F.pad(x, (0, 1, 0, 1))}).
 */
final class Conv2d {
    /** Target size of one band of upsampled input (keeps it in the last-level cache's neighbourhood). */
    private static final long BAND_BYTES = 16L << 20;

    final String name;
    final int in;
    final int out;
    final int kernel;
    private final Tensor weight;
    private final Tensor bias;

    Conv2d(String name, Tensor weight, Tensor bias) {
        this.name = name;
        this.weight = weight;
        this.bias = bias;
        this.out = weight.size(0);
        this.in = weight.size(1);
        this.kernel = weight.size(2);
    }

    static Conv2d load(Weights w, String key, int in, int out, int kernel) {
        return new Conv2d(key, w.take(key + ".weight", out, in, kernel, kernel), w.takeF32(key + ".bias", out));
    }

    /** This conv restricted to its first {@code outputs} filters (sharing memory). */
    Conv2d firstOutputs(int outputs) {
        return new Conv2d(name, weight.sliceRows(0, outputs), bias.sliceRows(0, outputs));
    }

    /** Stride 1, "same" zero padding. */
    FeatureMap apply(FeatureMap x) {
        return apply(x, 1, kernel / 2);
    }

    FeatureMap apply(FeatureMap x, int stride, int padding) {
        checkInput(x);
        int oh = (x.height + 2 * padding - kernel) / stride + 1, ow = (x.width + 2 * padding - kernel) / stride + 1;
        if (oh <= 0 || ow <= 0) throw new IllegalArgumentException(name + ": input " + x.describe() + " is smaller than the kernel");
        FeatureMap y = FeatureMap.allocate(out, oh, ow);
        KernelBackend.get().conv2d(x.data, in, x.height, x.width, weight, bias.data(), stride, padding, y.data);
        return y;
    }

    /** Stride-2 conv after padding (0, 1, 0, 1): output ⌊(h − 2)/2⌋ + 1 rows. */
    FeatureMap downsample(FeatureMap x) {
        checkInput(x);
        try (FeatureMap padded = FeatureMap.allocate(x.channels, x.height + 1, x.width + 1)) {
            Parallel.forEach(x.channels, c -> {
                for (int r = 0; r < x.height; r++) {
                    MemorySegment.copy(x.data, ((long) c * x.height + r) * x.width * Float.BYTES, padded.data,
                            ((long) c * padded.height + r) * padded.width * Float.BYTES, (long) x.width * Float.BYTES);
                }
            });
            return apply(padded, 2, 0);
        }
    }

    /** Nearest 2x upsampling, then this conv with "same" padding, in bands of output rows. */
    FeatureMap upsample(FeatureMap x) {
        return upsample(x, BAND_BYTES);
    }

    /** {@link #upsample(FeatureMap)} with bands of about {@code bandBytes} of upsampled input (at least one row). */
    FeatureMap upsample(FeatureMap x, long bandBytes) {
        checkInput(x);
        int h = 2 * x.height, w = 2 * x.width, pad = kernel / 2;
        FeatureMap y = FeatureMap.allocate(out, h, w);
        long bytesPerRow = (long) in * (w + 2 * pad) * Float.BYTES;
        int band = (int) Math.max(1, Math.min(h, bandBytes / bytesPerRow - 2L * pad));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment input = arena.allocate((long) in * (band + 2 * pad) * (w + 2 * pad) * Float.BYTES, Tensor.ALIGNMENT);
            MemorySegment result = arena.allocate((long) out * band * w * Float.BYTES, Tensor.ALIGNMENT);
            for (int r0 = 0; r0 < h; r0 += band) {
                int rows = Math.min(band, h - r0);
                // exact-size slices: the last band is shorter than the buffers
                MemorySegment bandIn = input.asSlice(0, (long) in * (rows + 2 * pad) * (w + 2 * pad) * Float.BYTES);
                MemorySegment bandOut = result.asSlice(0, (long) out * rows * w * Float.BYTES);
                fillUpsampledBand(x, r0 - pad, rows + 2 * pad, pad, bandIn);
                KernelBackend.get().conv2d(bandIn, in, rows + 2 * pad, w + 2 * pad, weight, bias.data(), 1, 0, bandOut);
                for (int c = 0; c < out; c++) {
                    MemorySegment.copy(bandOut, (long) c * rows * w * Float.BYTES, y.data,
                            ((long) c * h + r0) * w * Float.BYTES, (long) rows * w * Float.BYTES);
                }
            }
        }
        return y;
    }

    /**
     * Writes rows [firstRow, firstRow + rows) of the 2x-upsampled {@code x}, with {@code pad} zero columns each side
     * and zero rows outside the image, into {@code band} as [channels, rows, 2·width + 2·pad].
     */
    private static void fillUpsampledBand(FeatureMap x, int firstRow, int rows, int pad, MemorySegment band) {
        int w2 = 2 * x.width, bandWidth = w2 + 2 * pad;
        Parallel.forEach(x.channels, c -> {
            float[] src = new float[x.width];
            float[] line = new float[bandWidth];
            for (int r = 0; r < rows; r++) {
                int up = firstRow + r;
                long dst = ((long) c * rows + r) * bandWidth * Float.BYTES;
                if (up < 0 || up >= 2 * x.height) {
                    band.asSlice(dst, (long) bandWidth * Float.BYTES).fill((byte) 0);
                    continue;
                }
                MemorySegment.copy(x.data, F32_LE, ((long) c * x.height + up / 2) * x.width * Float.BYTES, src, 0, x.width);
                for (int i = 0; i < w2; i++) line[pad + i] = src[i / 2];
                MemorySegment.copy(line, 0, band, F32_LE, dst, bandWidth);
            }
        });
    }

    private void checkInput(FeatureMap x) {
        if (x.channels != in) throw new IllegalArgumentException(name + " takes " + in + " channels, got " + x.describe());
    }
}
