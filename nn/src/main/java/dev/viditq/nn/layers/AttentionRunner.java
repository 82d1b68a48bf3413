package dev.viditq.nn.layers;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;

import java.lang.foreign.MemorySegment;

/**
 * Maps the attention of a block onto as few kernel calls as possible, reading q/k/v in place through row strides.
 * Sequences that follow each other (an image's samples, a video's frames for spatial attention) are one
 * {@link Kernels#attentionGroups} call: the kernels spread its heads and query tiles over the pool, or, with enough
 * groups, the groups themselves (a nested pool call runs inline, so the pool is never oversubscribed).
 *
 * <p>Temporal attention has many short sequences (one per patch position). The kernel sees them as extra heads:
 * for one sample, "row" t holds frame t of every patch (S·H floats), and patch s, head h is pseudo-head s·heads + h,
 * so a single call covers all S sequences. This needs q/k/v/out rows that are exactly heads·headDim wide.
 */
final class AttentionRunner {
    /** A matrix of rows inside a buffer: row r starts at float {@code offset + r·rowWidth}. */
    record View(MemorySegment data, long offset, int rowWidth) {
        MemorySegment from(long row) {
            return data.asSlice((offset + row * rowWidth) * Float.BYTES);
        }
    }

    private AttentionRunner() {}

    /** Self-attention within each of {@code seqs}. TEMPORAL groupings need dense views (rowWidth = heads·headDim). */
    static void self(View q, View k, View v, View out, Sequences seqs, int heads, int headDim) {
        Kernels kernels = KernelBackend.get();
        float scale = scale(headDim);
        if (seqs.kind() == Sequences.Kind.TEMPORAL) {
            int dim = heads * headDim;
            for (View view : new View[]{q, k, v, out}) {
                if (view.rowWidth() != dim) throw new IllegalArgumentException("temporal attention needs dense q/k/v rows");
            }
            int perFrame = seqs.tokensPerFrame(), frames = seqs.framesPerSample();
            int samples = seqs.count() / perFrame;
            int frameStride = perFrame * dim;
            for (int b = 0; b < samples; b++) {
                long row = (long) b * frames * perFrame;
                kernels.attention(q.from(row), frameStride, k.from(row), frameStride, v.from(row), frameStride,
                        out.from(row), frameStride, frames, frames, heads * perFrame, headDim, scale, AttentionBias.NONE);
            }
            return;
        }
        // WHOLE and SPATIAL sequences follow each other (sequence i from row i·length): one call for all of them
        kernels.attentionGroups(seqs.count(), q.from(0), q.rowWidth(), k.from(0), k.rowWidth(), v.from(0), v.rowWidth(),
                out.from(0), out.rowWidth(), seqs.length(), seqs.length(), heads, headDim, scale, AttentionBias.NONE);
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
