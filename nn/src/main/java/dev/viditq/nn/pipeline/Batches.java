package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Copies along the batch dimension and the frame/channel swaps a video pipeline needs; all return new tensors. */
final class Batches {
    private Batches() {}

    /** [a; b] along dimension 0; null when both are null. */
    static Tensor concat(Tensor a, Tensor b) {
        if (a == null && b == null) return null;
        if (a == null || b == null) throw new IllegalArgumentException("cannot batch a tensor with a missing one");
        if (a.dtype() != b.dtype()) throw new IllegalArgumentException("cannot batch " + a + " with " + b);
        long[] sa = a.shape(), sb = b.shape();
        if (sa.length != sb.length || !Arrays.equals(Arrays.copyOfRange(sa, 1, sa.length), Arrays.copyOfRange(sb, 1, sb.length))) {
            throw new IllegalArgumentException("cannot batch " + a + " with " + b + ": trailing shapes differ");
        }
        sa[0] += sb[0];
        Tensor out = Tensor.zeros(a.dtype(), sa);
        MemorySegment.copy(a.data(), 0, out.data(), 0, a.byteSize());
        MemorySegment.copy(b.data(), 0, out.data(), a.byteSize(), b.byteSize());
        return out;
    }

    /** {@code t} [...] stacked {@code times} times: [times, ...]. */
    static Tensor repeat(Tensor t, int times) {
        long[] shape = new long[t.rank() + 1];
        shape[0] = times;
        System.arraycopy(t.shape(), 0, shape, 1, t.rank());
        Tensor out = Tensor.zeros(t.dtype(), shape);
        for (int i = 0; i < times; i++) MemorySegment.copy(t.data(), 0, out.data(), i * t.byteSize(), t.byteSize());
        return out;
    }

    /** Rows [from, to) of dimension 0, copied. */
    static Tensor rows(Tensor t, long from, long to) {
        return t.sliceRows(from, to).copy();
    }

    /** [B, C, F, H, W] → [B·F, C, H, W] (frames as a batch of images). */
    static Tensor framesToBatch(Tensor video) {
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
    static Tensor batchToFrames(Tensor images, int frames) {
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
}
