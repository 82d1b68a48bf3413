package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.viditq.core.kernels.MicroKernel.L;
import static dev.viditq.core.kernels.MicroKernel.MR;
import static dev.viditq.core.kernels.MicroKernel.NR;
import static dev.viditq.core.kernels.MicroKernel.S;
import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Multi-head attention, tiled with an online softmax (flash attention): memory stays O(tile), never lq × lk.
 *
 * <p>A task is one head and a tile of NR queries. It works on transposed tiles so that every step is a
 * {@link MicroKernel} product and the softmax runs down columns with no horizontal reductions:
 * <ol>
 *   <li>Sᵀ[keys, queries] = bias + K_block · (scale·Q)ᵀ: x = K rows, panel = the query tile packed once;</li>
 *   <li>per query (a lane): running max m, rescale factor α = e^(m_old - m_new), P = e^(S - m_new) in place,
 *       running sum l = α·l + Σ P;</li>
 *   <li>Oᵀ[headDim, queries] = α·Oᵀ + Vᵀ_block · P: x = V read transposed (row = one dimension, step = one key).</li>
 * </ol>
 * K and V of a group of heads are first copied (not transposed) to the heap, since the micro-kernel reads x
 * from arrays; the group is sized so these copies stay within {@link #STAGE_FLOATS}.
 */
final class FlashAttention {
    /**
     * Keys per block, a multiple of MR (key rows are tiles of x): the score tile (132 × 32 floats, 17 KiB) and the
     * K/V rows it needs stay in L1/L2.
     */
    static final int BK = 11 * MR;
    /** Most floats of K (and again of V) staged at once: 16 MiB each. */
    static final int STAGE_FLOATS = 4 << 20;
    /** Key rows per staging task. */
    private static final int STAGE_ROWS = 64;

    private FlashAttention() {}

    static void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                          MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                          AttentionBias bias) {
        check(q, qStride, lq, heads, headDim, "q");
        check(k, kStride, lk, heads, headDim, "k");
        check(v, vStride, lk, heads, headDim, "v");
        check(out, oStride, lq, heads, headDim, "out");
        if (bias.perKey() != null) Gemm.need(bias.perKey(), lk, "attention per-key bias [" + lk + "]");
        if (bias.perHead() != null) Gemm.need(bias.perHead(), (long) heads * lq * lk, "attention per-head bias [" + heads + ", " + lq + ", " + lk + "]");
        if (lq == 0 || heads == 0 || headDim == 0) return;

        int lkPad = Gemm.roundUp(lk, MR);
        // one head's staged rows, plus slack for reading the padded head dimensions of the last key
        long perHead = (long) lkPad * headDim + MR;
        int group = (int) Math.max(1, Math.min(heads, STAGE_FLOATS / perHead));
        int queryTiles = (lq + NR - 1) / NR;
        for (int h0 = 0; h0 < heads; h0 += group) {
            int first = h0, count = Math.min(group, heads - h0);
            float[] keys = Scratch.floats(Scratch.Slot.KEYS, count * perHead);
            float[] values = Scratch.floats(Scratch.Slot.VALUES, count * perHead);
            int chunks = Math.ceilDiv(lk, STAGE_ROWS);
            Parallel.forEach(chunks, c -> {
                int j0 = c * STAGE_ROWS, j1 = Math.min(lk, j0 + STAGE_ROWS);
                stage(k, kStride, j0, j1, first, count, headDim, keys, (int) perHead);
                stage(v, vStride, j0, j1, first, count, headDim, values, (int) perHead);
            });
            for (int g = 0; g < count; g++) {
                int from = (int) (g * perHead) + lk * headDim, to = (int) ((g + 1) * perHead);
                Arrays.fill(keys, from, to, 0f);
                Arrays.fill(values, from, to, 0f);
            }
            Parallel.forEach(count * queryTiles, task -> {
                int g = task / queryTiles, q0 = task % queryTiles * NR;
                new Tile(first + g, q0, Math.min(NR, lq - q0), lq, lk, headDim, scale, bias)
                        .run(q, qStride, keys, values, (int) (g * perHead), out, oStride);
            });
        }
    }

    static void check(MemorySegment s, int stride, int rows, int heads, int headDim, String name) {
        if (rows == 0) return;
        if (stride < heads * headDim) {
            throw new IllegalArgumentException("attention " + name + " row stride " + stride + " < heads·headDim " + heads * headDim);
        }
        Gemm.need(s, (long) (rows - 1) * stride + (long) heads * headDim, "attention " + name + " (" + rows + " rows)");
    }

    /**
     * Key rows [j0, j1) of heads [first, first + count) into per-head blocks: dst[g·perHead + j·headDim + d] =
     * src[j·stride + (first + g)·headDim + d]. Each source row is read with one bulk copy and split on the heap:
     * a segment copy per head and row (16 per row) cost several times the bytes moved, in bounds and liveness checks.
     */
    private static void stage(MemorySegment src, int stride, int j0, int j1, int first, int count, int headDim,
                              float[] dst, int perHead) {
        float[] row = Scratch.floats(Scratch.Slot.ROW, (long) count * headDim);
        for (int j = j0; j < j1; j++) {
            MemorySegment.copy(src, F32_LE, ((long) j * stride + (long) first * headDim) * Float.BYTES, row, 0, count * headDim);
            for (int g = 0; g < count; g++) System.arraycopy(row, g * headDim, dst, g * perHead + j * headDim, headDim);
        }
    }

    /** One head × up to NR queries. */
    private record Tile(int head, int q0, int nq, int lq, int lk, int headDim, float scale, AttentionBias bias) {
        void run(MemorySegment q, int qStride, float[] keys, float[] values, int staged, MemorySegment out, int oStride) {
            int hd = headDim, hdPad = Gemm.roundUp(hd, MR);
            float[] queries = Scratch.floats(Scratch.Slot.PANEL, (long) hd * NR);
            float[] scores = Scratch.floats(Scratch.Slot.STRIP, (long) (BK + 1) * NR);   // + the row for α
            float[] acc = Scratch.floats(Scratch.Slot.ACC, (long) hdPad * NR);
            float[] stats = Scratch.floats(Scratch.Slot.STATS, 2L * NR);
            packQueries(q, qStride, queries);
            Arrays.fill(acc, 0, hdPad * NR, 0f);
            Arrays.fill(stats, 0, NR, Float.NEGATIVE_INFINITY);
            Arrays.fill(stats, NR, 2 * NR, 0f);
            for (int key0 = 0; key0 < lk; key0 += BK) {
                int kb = Math.min(BK, lk - key0), kbPad = Gemm.roundUp(kb, MR);
                initScores(scores, key0, kb, kbPad);
                for (int j = 0; j < kbPad; j += MR) {
                    MicroKernel.tileToArray(keys, staged + (key0 + j) * hd, hd, queries, hd, scores, j * NR, NR);
                }
                for (int col = 0; col < NR; col += L) softmaxColumns(scores, kbPad, acc, hdPad, stats, col);
                for (int d0 = 0; d0 < hdPad; d0 += MR) {
                    MicroKernel.tileToArrayDown(values, staged + key0 * hd + d0, hd, scores, kbPad, acc, d0 * NR, NR);
                }
            }
            writeOut(acc, stats, out, oStride);
        }

        /**
         * queries[d·NR + c] = scale · q[q0 + c, head·hd + d]; missing queries of a last tile are zero. The rows are
         * first copied to a heap array in bulk: element-wise segment reads (bounds and alignment checks each) cost
         * as much as the transpose itself at short sequences.
         */
        private void packQueries(MemorySegment q, int qStride, float[] queries) {
            int hd = headDim;
            float[] rows = Scratch.floats(Scratch.Slot.ROW, (long) NR * hd);
            for (int c = 0; c < nq; c++) {
                MemorySegment.copy(q, F32_LE, ((long) (q0 + c) * qStride + (long) head * hd) * Float.BYTES, rows, c * hd, hd);
            }
            if (nq < NR) Arrays.fill(queries, 0, hd * NR, 0f);
            Transpose16.matrix(rows, 0, hd, nq, hd, queries, 0, NR);
            for (int i = 0; i < hd * NR; i += L) FloatVector.fromArray(S, queries, i).mul(scale).intoArray(queries, i);
        }

        /** Scores start at the bias; keys past the end (rows kb..kbPad) at -inf so they get zero weight. */
        private void initScores(float[] scores, int key0, int kb, int kbPad) {
            MemorySegment perKey = bias.perKey(), perHead = bias.perHead();
            for (int j = 0; j < kb; j++) {
                float b = perKey == null ? 0f : perKey.getAtIndex(F32_LE, key0 + j);
                Arrays.fill(scores, j * NR, (j + 1) * NR, b);
            }
            if (perHead != null) {
                for (int c = 0; c < nq; c++) {
                    long row = ((long) head * lq + q0 + c) * lk + key0;
                    for (int j = 0; j < kb; j++) scores[j * NR + c] += perHead.getAtIndex(F32_LE, row + j);
                }
            }
            Arrays.fill(scores, kb * NR, kbPad * NR, Float.NEGATIVE_INFINITY);
        }

        /** out[q0 + c, head·hd + d] = acc[d·NR + c] / l[c], through a heap row buffer copied out in bulk. */
        private void writeOut(float[] acc, float[] stats, MemorySegment out, int oStride) {
            int hd = headDim;
            float[] rows = Scratch.floats(Scratch.Slot.ROW, (long) NR * hd);
            for (int col = 0; col < NR; col += L) {
                FloatVector inv = FloatVector.fromArray(S, stats, NR + col);
                for (int d = 0; d < hd; d++) FloatVector.fromArray(S, acc, d * NR + col).div(inv).intoArray(acc, d * NR + col);
            }
            Transpose16.matrix(acc, 0, NR, hd, nq, rows, 0, hd);
            for (int c = 0; c < nq; c++) {
                MemorySegment.copy(rows, c * hd, out, F32_LE, ((long) (q0 + c) * oStride + (long) head * hd) * Float.BYTES, hd);
            }
        }
    }

    /**
     * The maximum of rows [0, rows) of the L columns at {@code col}, in four independent chains: a Java-semantics
     * vector max (NaN, signed zeros) is a sequence of several instructions, and one chain through it waited on
     * their latency every row (measured ~12 cycles per row on Zen 4). Max is exact, so the order does not change
     * the result.
     */
    static FloatVector columnMax(float[] scores, int rows, int col) {
        FloatVector m0 = VectorMath.negativeInfinities(), m1 = m0, m2 = m0, m3 = m0;
        int j = 0;
        for (; j + 4 <= rows; j += 4) {
            m0 = FloatVector.fromArray(S, scores, j * NR + col).max(m0);
            m1 = FloatVector.fromArray(S, scores, (j + 1) * NR + col).max(m1);
            m2 = FloatVector.fromArray(S, scores, (j + 2) * NR + col).max(m2);
            m3 = FloatVector.fromArray(S, scores, (j + 3) * NR + col).max(m3);
        }
        for (; j < rows; j++) m0 = FloatVector.fromArray(S, scores, j * NR + col).max(m0);
        return m0.max(m1).max(m2.max(m3));
    }

    /**
     * Online-softmax step for the L queries in columns [col, col + L) of a score tile of {@code rows} keys:
     * turns scores into weights in place and rescales the running sum and output accumulator. The tile has one
     * spare row after the scores, used to compute the rescale factor α = e^(m_old - m_new) in the same exp call
     * as the weights: with a second inlined exp this method outgrew C2's inlining budget, and C2 then boxed
     * every vector of the loop on the heap (20× slower).
     */
    static void softmaxColumns(float[] scores, int rows, float[] acc, int accRows, float[] stats, int col) {
        FloatVector max = columnMax(scores, rows, col);
        FloatVector oldMax = FloatVector.fromArray(S, stats, col);
        FloatVector newMax = oldMax.max(max);
        // a query that has seen only -inf so far keeps weights 0 instead of e^(-inf - -inf) = NaN
        FloatVector ref = newMax.blend(0f, newMax.eq(Float.NEGATIVE_INFINITY));
        oldMax.intoArray(scores, rows * NR + col);
        FloatVector sum = VectorMath.zeros();
        for (int j = 0; j <= rows; j++) {
            FloatVector p = VectorMath.exp(FloatVector.fromArray(S, scores, j * NR + col).sub(ref));
            p.intoArray(scores, j * NR + col);
            sum = p.add(sum);
        }
        FloatVector alpha = FloatVector.fromArray(S, scores, rows * NR + col);
        // sum - α loses at most half an ulp of 1 (α ≤ 1), against a running sum that is at least 1 (the max key
        // weighs e^0) as soon as any key is unmasked
        FloatVector.fromArray(S, stats, NR + col).fma(alpha, alpha.neg().add(sum)).intoArray(stats, NR + col);
        newMax.intoArray(stats, col);
        if (!alpha.eq(1f).allTrue()) {
            for (int d = 0; d < accRows; d++) {
                FloatVector.fromArray(S, acc, d * NR + col).mul(alpha).intoArray(acc, d * NR + col);
            }
        }
    }
}
