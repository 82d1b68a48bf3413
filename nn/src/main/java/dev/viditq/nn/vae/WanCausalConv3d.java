package dev.viditq.nn.vae;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A 3D convolution over a sequence of frames, causal in time (Wan's {@code WanCausalConv3d}): weight
 * [out, in, kt, k, k], kernel kt frames deep, k×k with "same" zero padding k/2 in space, temporal stride s. Output
 * frame j sees input frames j·s .. j·s + kt − 1 of the sequence it is given; the caller builds that sequence from
 * the cached frames of earlier chunks and zero frames (null entries), which is how the official code pads 2·p frames
 * in front.
 *
 * <p>Computed as a 2D convolution per output frame: the kt input frames stacked channel by channel
 * ([in·kt, h, w], channel-major as the weight is laid out) meet the weight seen as [out, in·kt, k, k], memory-mapped
 * as stored. The stack is built band by band of output rows (with its zero halo), so it never holds kt whole frames
 * of a wide map at once.
 */
final class WanCausalConv3d {
    /** Target size of one band of stacked input, in floats (16 MiB). */
    private static final long BAND_FLOATS = 4L << 20;

    final String name;
    final int in;
    final int out;
    final int depth;   // kt
    final int kernel;  // k
    private final Tensor weight; // [out, in·kt, k, k]
    private final Tensor bias;   // F32 [out]

    WanCausalConv3d(String name, Tensor weight5, Tensor bias) {
        if (weight5.rank() != 5 || weight5.dim(3) != weight5.dim(4)) {
            throw new IllegalArgumentException(name + ": a causal 3D conv weight is [out, in, kt, k, k], got " + weight5);
        }
        this.name = name;
        this.out = weight5.size(0);
        this.in = weight5.size(1);
        this.depth = weight5.size(2);
        this.kernel = weight5.size(3);
        this.weight = weight5.reshape(out, (long) in * depth, kernel, kernel);
        this.bias = bias.toF32();
    }

    /** This conv restricted to its first {@code outputs} filters (sharing memory). */
    WanCausalConv3d firstOutputs(int outputs) {
        return new WanCausalConv3d(name, weight.sliceRows(0, outputs).reshape(outputs, in, depth, kernel, kernel),
                bias.sliceRows(0, outputs));
    }

    /** {@code key.weight} [out, in, kt, k, k] and {@code key.bias} [out]. */
    static WanCausalConv3d load(Weights w, String key, int in, int out, int depth, int kernel) {
        return new WanCausalConv3d(key, w.take(key + ".weight", out, in, depth, kernel, kernel), w.takeF32(key + ".bias", out));
    }

    /**
     * Output frames of {@code sequence} (null entries are zero frames; at least one real frame gives the size) at
     * temporal stride {@code stride}: ⌊(n − kt)/stride⌋ + 1 new maps.
     */
    List<FeatureMap> apply(List<FeatureMap> sequence, int stride) {
        return apply(sequence, stride, BAND_FLOATS);
    }

    /** {@link #apply(List, int)} with stacks of at most about {@code bandFloats} floats (tests cross band edges). */
    List<FeatureMap> apply(List<FeatureMap> sequence, int stride, long bandFloats) {
        FeatureMap shape = sequence.stream().filter(f -> f != null).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(name + ": a sequence of zero frames only"));
        for (FeatureMap f : sequence) {
            if (f != null && (f.channels != in || f.height != shape.height || f.width != shape.width)) {
                throw new IllegalArgumentException(name + " takes frames of [" + in + ", " + shape.height + ", " + shape.width
                        + "], got " + f.describe());
            }
        }
        List<FeatureMap> outputs = new ArrayList<>();
        for (int j = 0; j + depth <= sequence.size(); j += stride) {
            outputs.add(frame(sequence.subList(j, j + depth), shape.height, shape.width, bandFloats));
        }
        return outputs;
    }

    /** One output frame from its kt input frames (null = zeros). */
    private FeatureMap frame(List<FeatureMap> window, int h, int w, long bandFloats) {
        FeatureMap y = FeatureMap.allocate(out, h, w);
        if (depth == 1 && kernel == 1 && window.getFirst() != null) { // a pointwise conv needs no stacking
            KernelBackend.get().conv2d(window.getFirst().data, in, h, w, weight, bias.data(), 1, 0, y.data);
            return y;
        }
        int pad = kernel / 2, paddedWidth = w + 2 * pad;
        long floatsPerRow = (long) in * depth * paddedWidth;
        int band = (int) Math.max(1, Math.min(h, bandFloats / floatsPerRow - 2L * pad));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment stack = arena.allocate(floatsPerRow * (band + 2 * pad) * Float.BYTES, Tensor.ALIGNMENT);
            MemorySegment result = arena.allocate((long) out * band * w * Float.BYTES, Tensor.ALIGNMENT);
            for (int r0 = 0; r0 < h; r0 += band) {
                int rows = Math.min(band, h - r0), stackRows = rows + 2 * pad;
                MemorySegment bandIn = stack.asSlice(0, floatsPerRow * stackRows * Float.BYTES);
                MemorySegment bandOut = result.asSlice(0, (long) out * rows * w * Float.BYTES);
                fillStack(window, h, w, r0 - pad, stackRows, pad, bandIn);
                KernelBackend.get().conv2d(bandIn, in * depth, stackRows, paddedWidth, weight, bias.data(), 1, 0, bandOut);
                for (int c = 0; c < out; c++) {
                    MemorySegment.copy(bandOut, (long) c * rows * w * Float.BYTES, y.data,
                            ((long) c * h + r0) * w * Float.BYTES, (long) rows * w * Float.BYTES);
                }
            }
        }
        return y;
    }

    /**
     * stack[(c·kt + dt), r, pad + x] = window[dt][c, firstRow + r, x], zero outside the frame and for null frames:
     * rows [firstRow, firstRow + rows) of every channel of every frame, with {@code pad} zero columns each side.
     */
    private void fillStack(List<FeatureMap> window, int h, int w, int firstRow, int rows, int pad, MemorySegment stack) {
        int width = w + 2 * pad;
        long planeFloats = (long) rows * width;
        Parallel.forEach(in, c -> {
            for (int dt = 0; dt < depth; dt++) {
                FeatureMap f = window.get(dt);
                long plane = ((long) c * depth + dt) * planeFloats * Float.BYTES;
                stack.asSlice(plane, planeFloats * Float.BYTES).fill((byte) 0);
                if (f == null) continue;
                for (int r = 0; r < rows; r++) {
                    int src = firstRow + r;
                    if (src < 0 || src >= h) continue;
                    MemorySegment.copy(f.data, ((long) c * h + src) * w * Float.BYTES, stack,
                            plane + ((long) r * width + pad) * Float.BYTES, (long) w * Float.BYTES);
                }
            }
        });
    }

    /**
     * The causal streaming of the official feature cache: each chunk is convolved after the last kt − 1 frames seen
     * before it (zero frames while fewer have been seen), and those frames are kept (copies, owned here) for the
     * next chunk.
     */
    final class Stream implements AutoCloseable {
        private final List<FeatureMap> history = new ArrayList<>();

        /** New output maps, one per chunk frame; the chunk stays the caller's. */
        List<FeatureMap> forward(List<FeatureMap> chunk) {
            List<FeatureMap> sequence = new ArrayList<>();
            for (int i = history.size(); i < depth - 1; i++) sequence.add(null);
            sequence.addAll(history);
            sequence.addAll(chunk);
            List<FeatureMap> outputs = apply(sequence, 1);
            keepLast(sequence.subList(Math.max(0, sequence.size() - (depth - 1)), sequence.size()));
            return outputs;
        }

        private void keepLast(List<FeatureMap> frames) {
            List<FeatureMap> kept = new ArrayList<>();
            for (FeatureMap f : frames) if (f != null) kept.add(history.contains(f) ? f : copy(f));
            for (FeatureMap old : history) if (!kept.contains(old)) old.close();
            history.clear();
            history.addAll(kept);
        }

        @Override
        public void close() {
            history.forEach(FeatureMap::close);
            history.clear();
        }
    }

    static FeatureMap copy(FeatureMap f) {
        FeatureMap c = FeatureMap.allocate(f.channels, f.height, f.width);
        MemorySegment.copy(f.data, 0, c.data, 0, f.data.byteSize());
        return c;
    }
}
