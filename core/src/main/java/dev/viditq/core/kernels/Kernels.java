package dev.viditq.core.kernels;

import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * The float kernels every model runs on. Activations are F32 segments, row-major, little-endian; weights are
 * tensors (F32, BF16 or F16) used in place, never expanded. Implementations: {@link ScalarKernels} (the oracle,
 * obvious loops) and the Vector API one. {@link KernelBackend#get()} returns the one chosen at start-up.
 *
 * <p>Segments passed as {@code out} may be the same as the input only where a method says so.
 */
public interface Kernels {
    String name();

    /** out[m, n] = x[m, k] · w[n, k]ᵀ (+ bias[n]). {@code w} is [n, k] F32/BF16/F16; {@code bias} F32 [n] or null. */
    void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out);

    /**
     * {@link #gemm} for a weight that is not multiplied again soon: a text encoder's, which runs once per generation
     * before the denoiser's many steps. Kernels that keep a packed copy of every weight they multiply (the BF16 kernels)
     * pack this one for the call only, and a memory-mapped weight gives its pages back afterwards (they stay in the page
     * cache), so the encoder's weights do not stay resident beside the model that runs next. Same result as
     * {@link #gemm}. Device kernels keep their device copy (default: {@link #gemm}, then the pages given back).
     */
    default void gemmOnce(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        gemm(x, m, k, w, bias, out);
        if (w.data().isMapped()) w.data().unload();
    }

    /**
     * LayerNorm over the last dimension of {@code rows × dim}; {@code gamma}/{@code beta} F32 [dim] or null
     * (no affine). In place allowed (out == x).
     */
    void layerNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out);

    /** RMSNorm (T5 / qk-norm): x / sqrt(mean(x²) + eps) · gamma; gamma may be null. In place allowed. */
    void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, float eps, MemorySegment out);

    /**
     * GroupNorm of one sample laid out [channels, spatial]: statistics per group of channels/groups channels.
     * gamma/beta F32 [channels] or null. In place allowed.
     */
    void groupNorm(MemorySegment x, int channels, int spatial, int groups, MemorySegment gamma, MemorySegment beta,
                   float eps, MemorySegment out);

    /** In place: x = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — GELU, tanh approximation. */
    void geluTanh(MemorySegment x, long n);

    /** In place: exact GELU, 0.5·x·(1 + erf(x/√2)). */
    void geluErf(MemorySegment x, long n);

    /** In place: x·sigmoid(x). */
    void silu(MemorySegment x, long n);

    /** In place softmax over each row of {@code rows × cols}. */
    void softmax(MemorySegment x, int rows, int cols);

    /** out[i] = a[i] + b[i]; out may alias a or b. */
    void add(MemorySegment a, MemorySegment b, MemorySegment out, long n);

    /** out[i] = a[i] · b[i]; out may alias a or b. */
    void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n);

    /**
     * Multi-head attention, softmax(q·kᵀ·scale + bias)·v, per head, without materialising the full score matrix
     * in fast implementations. Rows of q/k/v/out are tokens; head h occupies columns [h·headDim, (h+1)·headDim)
     * starting at each row, rows {@code qStride}/{@code kStride}/{@code vStride}/{@code oStride} floats apart
     * (so a fused qkv buffer can be read in place).
     *
     * @param bias additive bias, see {@link AttentionBias}; {@link AttentionBias#NONE} for none
     */
    void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                   MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                   AttentionBias bias);

    /**
     * {@link #attention} over {@code groups} independent groups of rows: group g's queries, keys, values and output
     * start g·{@code between.q()}, g·{@code between.k()}, ... floats after q's, k's, ... ({@link GroupStrides}: groups
     * one after another, or interleaved like a video's temporal sequences); within a group, rows are
     * {@code qStride}, ... floats apart as in {@link #attention}. Every group takes the same bias. Each group gives what
     * a call of its own gives. The default runs them in turn; CPU kernels may run them in parallel
     * ({@link AttentionGroups}).
     */
    default void attentionGroups(int groups, GroupStrides between, MemorySegment q, int qStride, MemorySegment k,
                                 int kStride, MemorySegment v, int vStride, MemorySegment out, int oStride, int lq,
                                 int lk, int heads, int headDim, float scale, AttentionBias bias) {
        AttentionGroups.inTurn(this, groups, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads,
                headDim, scale, bias);
    }

    /**
     * True when {@link #attentionGroups} reads groups laid out anywhere at no extra cost, however many and small they
     * are (a video's temporal sequences, one token row apart in a fused q/k/v buffer). The default is one attention
     * call per group, unless the groups are extra heads of dense rows: callers then copy such operands into dense rows
     * first.
     */
    default boolean attendsInterleavedGroupsInPlace() {
        return false;
    }

    /**
     * 2D convolution of one sample: x [cin, h, w] → out [cout, oh, ow], weight [cout, cin, kh, kw] (F32/BF16/F16),
     * bias F32 [cout] or null, square stride and zero padding.
     */
    void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                MemorySegment out);

    /**
     * In place over rows [rowFrom, rowTo) of width {@code dim}: x = x·mul + add, per column (adaLN modulation of one
     * sample). A device backend overrides it so the activations stay where they are.
     */
    default void affineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float[] mul, float[] add) {
        RowKernels.affineRows(x, rowFrom, rowTo, dim, mul, add);
    }

    /**
     * Rows [rowFrom, rowTo) of width {@code dim}: out = LayerNorm(x) (no affine parameters) · mul + add, per column:
     * adaLN's normalise-then-modulate of one sample. This default normalises into {@code out}, then modulates it with
     * {@link #affineRows}; a kernel set may do both in one pass over the rows, with the same operations in the same
     * order, so the result is the same bit for bit. {@code out} must not overlap x.
     */
    default void layerNormAffineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float eps, float[] mul, float[] add,
                                     MemorySegment out) {
        if (rowTo <= rowFrom) return;
        long offset = (long) rowFrom * dim * Float.BYTES, bytes = (long) (rowTo - rowFrom) * dim * Float.BYTES;
        layerNorm(x.asSlice(offset, bytes), rowTo - rowFrom, dim, null, null, eps, out.asSlice(offset, bytes));
        affineRows(out, rowFrom, rowTo, dim, mul, add);
    }

    /**
     * In place: x[r, :] += table[index[r], :] for the {@code index.length} rows of width {@code dim} (positional
     * embeddings). A device backend may keep {@code table} resident, by identity: callers pass the same array for
     * the same values.
     */
    default void addIndexedRows(MemorySegment x, int dim, float[] table, int[] index) {
        RowKernels.addIndexedRows(x, dim, table, index);
    }

    /** In place over rows [rowFrom, rowTo) of width {@code dim}: residual += gate ⊙ y (adaLN gate of one sample). */
    default void gatedAddRows(MemorySegment residual, MemorySegment y, int rowFrom, int rowTo, int dim, float[] gate) {
        RowKernels.gatedAddRows(residual, y, rowFrom, rowTo, dim, gate);
    }

    // A batch's samples at once: sample s has rows [s·rowsPerSample, (s+1)·rowsPerSample) and vectors [s]. The same
    // values as one call per sample; these defaults make those calls, CPU kernels one pool call for the batch (at 16
    // threads each pool call waits for its slowest thread).

    /** {@link #affineRows} of every sample. */
    default void affineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float[][] mul, float[][] add) {
        for (int s = 0; s < mul.length; s++) affineRows(x, s * rowsPerSample, (s + 1) * rowsPerSample, dim, mul[s], add[s]);
    }

    /** {@link #layerNormAffineRows} of every sample. */
    default void layerNormAffineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float eps, float[][] mul,
                                              float[][] add, MemorySegment out) {
        for (int s = 0; s < mul.length; s++) {
            layerNormAffineRows(x, s * rowsPerSample, (s + 1) * rowsPerSample, dim, eps, mul[s], add[s], out);
        }
    }

    /** {@link #gatedAddRows} of every sample. */
    default void gatedAddRowsPerSample(MemorySegment residual, MemorySegment y, int rowsPerSample, int dim, float[][] gate) {
        for (int s = 0; s < gate.length; s++) gatedAddRows(residual, y, s * rowsPerSample, (s + 1) * rowsPerSample, dim, gate[s]);
    }
}
