package dev.viditq.core.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.viditq.core.kernels.KernelTestSupport.assertClose;
import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link JavaKernels#attention} (flash attention) against {@link ScalarKernels#attention}. */
class AttentionKernelTest {
    private static final ScalarKernels ORACLE = new ScalarKernels();
    private static final JavaKernels FAST = new JavaKernels();
    private static final double RTOL = 2e-5;

    enum Bias { NONE, KEY_MASK, PER_HEAD, BOTH }

    /** A fused qkv buffer (rows of 3·width plus a gap) that q, k and v are read from in place. */
    private record Problem(MemorySegment qkv, int width) {
        MemorySegment q() { return qkv; }
        MemorySegment k() { return qkv.asSlice((long) width * Float.BYTES); }
        MemorySegment v() { return qkv.asSlice(2L * width * Float.BYTES); }
    }

    @ParameterizedTest(name = "lq={0} lk={1} heads={2} headDim={3} bias={4}")
    @CsvSource({
            "1, 1, 1, 1, NONE", "3, 17, 2, 8, KEY_MASK", "17, 3, 3, 17, PER_HEAD", "67, 130, 2, 72, BOTH",
            "130, 67, 1, 40, KEY_MASK", "49, 200, 3, 16, NONE", "33, 129, 2, 33, BOTH", "200, 1, 1, 5, PER_HEAD",
            "64, 277, 2, 12, KEY_MASK", "31, 132, 3, 72, NONE",
    })
    void matchesOracle(int lq, int lk, int heads, int headDim, Bias kind) {
        SplittableRandom r = new SplittableRandom(lq * 1000L + lk * 10L + heads);
        int width = heads * headDim;
        // q and k/v rows come from one fused buffer (lq may differ from lk: size it for the longer); the
        // output rows are wider than the heads too, so every stride differs from heads·headDim
        int rows = Math.max(lq, lk), stride = 3 * width + 5, oStride = width + 3;
        MemorySegment qkv = random(r, (long) rows * stride, -2f, 2f);
        AttentionBias bias = bias(r, kind, heads, lq, lk);
        Problem p = new Problem(qkv, width);
        MemorySegment expected = zeros((long) lq * oStride), actual = zeros((long) lq * oStride);
        float scale = (float) (1 / Math.sqrt(headDim));
        ORACLE.attention(p.q(), stride, p.k(), stride, p.v(), stride, expected, oStride, lq, lk, heads, headDim, scale, bias);
        FAST.attention(p.q(), stride, p.k(), stride, p.v(), stride, actual, oStride, lq, lk, heads, headDim, scale, bias);
        assertClose(expected, actual, (long) lq * oStride, RTOL, "attention " + lq + "×" + lk + " " + heads + "×" + headDim + " " + kind);
    }

    /** -inf on some keys (a caption mask), never on all of them: the oracle would give NaN for a row with none left. */
    private static AttentionBias bias(SplittableRandom r, Bias kind, int heads, int lq, int lk) {
        MemorySegment perKey = null, perHead = null;
        if (kind == Bias.KEY_MASK || kind == Bias.BOTH) {
            perKey = random(r, lk);
            for (int j = 1; j < lk; j += 3) perKey.setAtIndex(F32_LE, j, Float.NEGATIVE_INFINITY);
        }
        if (kind == Bias.PER_HEAD || kind == Bias.BOTH) perHead = random(r, (long) heads * lq * lk, -3f, 3f);
        return new AttentionBias(perKey, perHead);
    }

    /**
     * The first key block (FlashAttention.BK = 132 keys) fully masked and later keys not: the online softmax must not turn the empty
     * first block into NaN (e^(-inf - -inf)) before the real keys arrive.
     */
    @Test
    void fullyMaskedFirstKeyBlockDoesNotPoisonLaterKeys() {
        int lq = 5, lk = 300, heads = 2, headDim = 24, width = heads * headDim;
        SplittableRandom r = new SplittableRandom(3);
        MemorySegment q = random(r, (long) lq * width), k = random(r, (long) lk * width), v = random(r, (long) lk * width);
        MemorySegment mask = zeros(lk);
        for (int j = 0; j < 200; j++) mask.setAtIndex(F32_LE, j, Float.NEGATIVE_INFINITY);
        AttentionBias bias = AttentionBias.perKey(mask);
        MemorySegment expected = zeros((long) lq * width), actual = zeros((long) lq * width);
        ORACLE.attention(q, width, k, width, v, width, expected, width, lq, lk, heads, headDim, 0.2f, bias);
        FAST.attention(q, width, k, width, v, width, actual, width, lq, lk, heads, headDim, 0.2f, bias);
        for (float f : KernelTestSupport.floats(actual, (long) lq * width)) assertFalse(Float.isNaN(f));
        assertClose(expected, actual, (long) lq * width, RTOL, "attention behind a masked block");
    }

    @Test
    void largeScoresDoNotOverflow() {
        int lq = 9, lk = 140, heads = 1, headDim = 16;
        SplittableRandom r = new SplittableRandom(4);
        MemorySegment q = random(r, (long) lq * headDim, -30f, 30f), k = random(r, (long) lk * headDim, -30f, 30f);
        MemorySegment v = random(r, (long) lk * headDim);
        MemorySegment expected = zeros((long) lq * headDim), actual = zeros((long) lq * headDim);
        ORACLE.attention(q, headDim, k, headDim, v, headDim, expected, headDim, lq, lk, heads, headDim, 1f, AttentionBias.NONE);
        FAST.attention(q, headDim, k, headDim, v, headDim, actual, headDim, lq, lk, heads, headDim, 1f, AttentionBias.NONE);
        assertClose(expected, actual, (long) lq * headDim, 1e-4, "attention with scores in the thousands");
    }
}
