package dev.viditq.core.kernels;

import dev.viditq.core.kernels.quant.EmulatedAmx;
import dev.viditq.core.kernels.quant.NativeMatrix;
import dev.viditq.core.parallel.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Kernels#attentionGroups} against a loop of one {@link Kernels#attention} call per group, bit for bit, for
 * every CPU kernel set (FP32: in turn and a group per thread; BF16: the groups' heads together; 1, 2 and 3 threads;
 * AMX on the hardware where present and on the tile model), with q/k/v read from a fused buffer
 * (row stride three times the heads' width), an output whose columns beside the heads must stay untouched, odd sizes,
 * and more keys than queries so that a mix-up of the two offsets shows; groups laid one after another, and
 * interleaved one row apart as a video's temporal sequences are.
 */
class AttentionGroupsTest {
    private static final int HEADS = 3, HEAD_DIM = 8, WIDTH = HEADS * HEAD_DIM;
    private static final int FUSED = 3 * WIDTH, OUT_STRIDE = WIDTH + 5;
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void groupsRunInParallelOnlyWhenTheyFillTheThreadsEvenly() {
        assertTrue(AttentionGroups.spreadsEvenly(32, 16), "a video's 32 frames on 16 threads: two rounds, full");
        assertTrue(AttentionGroups.spreadsEvenly(24, 16), "three quarters of the second round");
        assertTrue(AttentionGroups.spreadsEvenly(2, 2));
        assertFalse(AttentionGroups.spreadsEvenly(2, 16), "an image's guided batch of two on 16 threads");
        assertFalse(AttentionGroups.spreadsEvenly(17, 16), "a second round of one group");
        assertFalse(AttentionGroups.spreadsEvenly(1, 1), "one group is one call");
    }

    @Test
    void groupsOfDenseRowsOneHeadWidthApartAreExtraHeadsOfOneCall() {
        GroupStrides headWidth = GroupStrides.oneRowApart(WIDTH, WIDTH, WIDTH, WIDTH);
        assertTrue(AttentionGroups.areExtraHeads(4, headWidth, HEADS, HEAD_DIM, AttentionBias.NONE));
        assertFalse(AttentionGroups.areExtraHeads(4, GroupStrides.oneRowApart(FUSED, FUSED, FUSED, WIDTH), HEADS, HEAD_DIM,
                AttentionBias.NONE), "a fused buffer's groups are three head widths apart");
        assertFalse(AttentionGroups.areExtraHeads(4, GroupStrides.consecutive(5, 5, WIDTH, WIDTH, WIDTH, WIDTH), HEADS,
                HEAD_DIM, AttentionBias.NONE), "consecutive groups of several rows");
        MemorySegment perHead = Arena.ofAuto().allocate(4L * HEADS * 5 * 5, 64);
        assertFalse(AttentionGroups.areExtraHeads(4, headWidth, HEADS, HEAD_DIM, new AttentionBias(null, perHead)),
                "a per-head bias belongs to each group's heads");
    }

    /** The default, with groups that are extra heads of dense rows: what one call over groups·heads heads gives. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void defaultKernelsGiveExtraHeadsWhatOneCallGives(int threads) {
        Parallel.setThreads(threads);
        Kernels kernels = new ScalarKernels();
        int groups = 5, frames = 4, rowsApart = groups;
        SplittableRandom rnd = new SplittableRandom(11);
        MemorySegment q = random(rnd, (long) groups * frames * WIDTH), k = random(rnd, (long) groups * frames * WIDTH);
        MemorySegment v = random(rnd, (long) groups * frames * WIDTH);
        MemorySegment expected = Arena.ofAuto().allocate(4L * groups * frames * WIDTH, 64), actual = copy(expected);
        int stride = rowsApart * WIDTH;
        float scale = 0.3f;
        kernels.attention(q, stride, k, stride, v, stride, expected, stride, frames, frames, groups * HEADS, HEAD_DIM, scale,
                AttentionBias.NONE);
        kernels.attentionGroups(groups, GroupStrides.oneRowApart(WIDTH, WIDTH, WIDTH, WIDTH), q, stride, k, stride, v, stride,
                actual, stride, frames, frames, HEADS, HEAD_DIM, scale, AttentionBias.NONE);
        assertEquals(-1L, expected.mismatch(actual), "first differing byte");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void scalarKernels(int threads) {
        check(ScalarKernels::new, threads);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void javaKernels(int threads) {
        check(JavaKernels::new, threads);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void bf16KernelsOnAvx512Bf16(int threads) {
        check(() -> bf16(NativeMatrix.Unit.AVX512_BF16), threads);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void bf16KernelsOnAmx(int threads) {
        check(() -> bf16(NativeMatrix.Unit.AMX), threads);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void bf16KernelsOnTheAmxTileModel(int threads) {
        check(() -> bf16(EmulatedAmx.matrix(), NativeMatrix.Unit.AMX, "the AMX tile model: " + EmulatedAmx.unavailableReason()), threads);
    }

    /** The BF16 kernels attend into native memory and copy a heap output back: what lies beside the heads stays. */
    @Test
    void bf16KernelsKeepTheOtherColumnsOfAHeapOutput() {
        Kernels kernels = bf16(NativeMatrix.Unit.AVX512_BF16);
        int lq = 5, lk = 7;
        SplittableRandom rnd = new SplittableRandom(5);
        MemorySegment q = random(rnd, (long) lq * FUSED), kv = random(rnd, (long) lk * FUSED);
        float[] heap = new float[lq * OUT_STRIDE];
        for (int i = 0; i < heap.length; i++) heap[i] = (float) rnd.nextGaussian();
        MemorySegment expected = Arena.ofAuto().allocate(4L * heap.length, 64).copyFrom(MemorySegment.ofArray(heap));
        MemorySegment onHeap = MemorySegment.ofArray(heap);
        for (MemorySegment out : new MemorySegment[]{expected, onHeap}) {
            kernels.attention(q, FUSED, kv, FUSED, kv.asSlice(WIDTH * 4L), FUSED, out, OUT_STRIDE, lq, lk, HEADS, HEAD_DIM,
                    0.3f, AttentionBias.NONE);
        }
        assertEquals(-1L, expected.mismatch(onHeap), "first differing byte");
    }

    private static Kernels bf16(NativeMatrix.Unit unit) {
        return bf16(NativeMatrix.get(), unit, unit + " on this CPU");
    }

    private static Kernels bf16(Optional<NativeMatrix> engines, NativeMatrix.Unit unit, String what) {
        Assumptions.assumeTrue(engines.isPresent() && engines.get().has(unit), "skipped: " + what + " not runnable here");
        return new Bf16Kernels(engines.get(), unit, new JavaKernels());
    }

    /** groups, lq, lk: few keys and many (the BF16 kernels' two paths), lk ≠ lq, one group, groups past the threads. */
    private static final int[][] SHAPES = {{4, 17, 17}, {3, 5, 70}, {1, 9, 9}, {6, 33, 40}, {7, 2, 1}};

    private static void check(Supplier<Kernels> make, int threads) {
        Kernels kernels = make.get();
        Parallel.setThreads(threads);
        SplittableRandom rnd = new SplittableRandom(7 + threads);
        for (int[] shape : SHAPES) {
            for (boolean interleaved : new boolean[]{false, true}) check(kernels, threads, rnd, shape, interleaved);
        }
    }

    /**
     * One shape's groups one after another, or interleaved: group g's row r at row r·groups + g (rows of a group
     * groups rows apart, groups one row apart), as patch g of frame r in a video's temporal attention.
     */
    private static void check(Kernels kernels, int threads, SplittableRandom rnd, int[] shape, boolean interleaved) {
        int groups = shape[0], lq = shape[1], lk = shape[2];
        int rowsApart = interleaved ? groups : 1;
        int qStride = rowsApart * FUSED, kvStride = rowsApart * FUSED, oStride = rowsApart * OUT_STRIDE;
        GroupStrides between = interleaved ? GroupStrides.oneRowApart(FUSED, FUSED, FUSED, OUT_STRIDE)
                : GroupStrides.consecutive(lq, lk, FUSED, FUSED, FUSED, OUT_STRIDE);
        MemorySegment q = random(rnd, (long) groups * lq * FUSED), kv = random(rnd, (long) groups * lk * FUSED);
        MemorySegment k = kv, v = kv.asSlice(WIDTH * 4L);   // k and v as columns of one fused buffer
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        MemorySegment expected = random(new SplittableRandom(1), (long) groups * lq * OUT_STRIDE);
        MemorySegment actual = copy(expected);
        for (int g = 0; g < groups; g++) {
            kernels.attention(q.asSlice(4L * g * between.q()), qStride, k.asSlice(4L * g * between.k()), kvStride,
                    v.asSlice(4L * g * between.v()), kvStride, expected.asSlice(4L * g * between.out()), oStride,
                    lq, lk, HEADS, HEAD_DIM, scale, AttentionBias.NONE);
        }
        kernels.attentionGroups(groups, between, q, qStride, k, kvStride, v, kvStride, actual, oStride, lq, lk, HEADS,
                HEAD_DIM, scale, AttentionBias.NONE);
        for (long i = 0; i < (long) groups * lq * OUT_STRIDE; i++) {
            int gotBits = Float.floatToRawIntBits(actual.getAtIndex(F32_LE, i));
            int wantBits = Float.floatToRawIntBits(expected.getAtIndex(F32_LE, i));
            if (gotBits != wantBits) {
                assertEquals(expected.getAtIndex(F32_LE, i), actual.getAtIndex(F32_LE, i), 0f, kernels.name() + ", "
                        + threads + " threads, groups " + groups + (interleaved ? " interleaved" : "") + " lq " + lq
                        + " lk " + lk + ": float " + i);
            }
        }
    }

    private static MemorySegment random(SplittableRandom rnd, long n) {
        MemorySegment s = Arena.ofAuto().allocate(n * 4, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(F32_LE, i, (float) rnd.nextGaussian());
        return s;
    }

    private static MemorySegment copy(MemorySegment s) {
        MemorySegment c = Arena.ofAuto().allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }
}
