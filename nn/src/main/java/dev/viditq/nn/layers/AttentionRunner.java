package dev.viditq.nn.layers;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.GroupStrides;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;

import java.lang.foreign.MemorySegment;

/**
 * Maps the attention of a block onto as few kernel calls as possible, reading q/k/v in place through row strides.
 * Sequences that follow each other (an image's samples, a video's frames for spatial attention) are one
 * {@link Kernels#attentionGroups} call: the kernels spread its heads and query tiles over the pool, or, with enough
 * groups, the groups themselves (a nested pool call runs inline, so the pool is never oversubscribed).
 *
 * <p>Temporal attention has many short sequences (one per patch position), interleaved: sequence s of a sample is
 * patch s of every frame, its rows a frame apart, and sequence s + 1 starts one token row further on. They are one
 * call per sample too, with groups one row apart ({@link GroupStrides#oneRowApart}), so a fused q/k/v buffer is read
 * in place.
 */
final class AttentionRunner {
    /** A matrix of rows inside a buffer: row r starts at float {@code offset + r·rowWidth}. */
    record View(MemorySegment data, long offset, int rowWidth) {
        MemorySegment from(long row) {
            return data.asSlice((offset + row * rowWidth) * Float.BYTES);
        }
    }

    private AttentionRunner() {}

    /** Self-attention within each of {@code seqs}. */
    static void self(View q, View k, View v, View out, Sequences seqs, int heads, int headDim) {
        Kernels kernels = KernelBackend.get();
        float scale = scale(headDim);
        if (seqs.kind() == Sequences.Kind.TEMPORAL) {
            int perFrame = seqs.tokensPerFrame(), frames = seqs.framesPerSample();
            int samples = seqs.count() / perFrame;
            GroupStrides patches = GroupStrides.oneRowApart(q.rowWidth(), k.rowWidth(), v.rowWidth(), out.rowWidth());
            for (int b = 0; b < samples; b++) {
                long row = (long) b * frames * perFrame;
                kernels.attentionGroups(perFrame, patches, q.from(row), frameStride(q, perFrame), k.from(row),
                        frameStride(k, perFrame), v.from(row), frameStride(v, perFrame), out.from(row),
                        frameStride(out, perFrame), frames, frames, heads, headDim, scale, AttentionBias.NONE);
            }
            return;
        }
        // WHOLE and SPATIAL sequences follow each other (sequence i from row i·length): one call for all of them
        int length = seqs.length();
        GroupStrides sequences = GroupStrides.consecutive(length, length, q.rowWidth(), k.rowWidth(), v.rowWidth(), out.rowWidth());
        kernels.attentionGroups(seqs.count(), sequences, q.from(0), q.rowWidth(), k.from(0), k.rowWidth(), v.from(0),
                v.rowWidth(), out.from(0), out.rowWidth(), length, length, heads, headDim, scale, AttentionBias.NONE);
    }

    /** Floats from a token to the same patch in the next frame. */
    private static int frameStride(View view, int perFrame) {
        return Math.multiplyExact(perFrame, view.rowWidth());
    }

    /** Queries rows [qRow, qRow + lq) attend to key rows [kRow, kRow + lk). */
    static void cross(View q, long qRow, int lq, View k, View v, long kRow, int lk, View out, int heads, int headDim,
                      AttentionBias bias) {
        KernelBackend.get().attention(q.from(qRow), q.rowWidth(), k.from(kRow), k.rowWidth(), v.from(kRow), v.rowWidth(),
                out.from(qRow), out.rowWidth(), lq, lk, heads, headDim, scale(headDim), bias);
    }

    private static float scale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }
}
