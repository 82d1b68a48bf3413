package dev.viditq.core.kernels;

import dev.viditq.core.kernels.quant.EmulatedAmx;
import dev.viditq.core.kernels.quant.NativeMatrix;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import static dev.viditq.core.kernels.KernelTestSupport.assertClose;
import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.unalignedWeight;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The BF16 float path ({@link Bf16Kernels}) against the scalar oracle computed on bf16-rounded inputs, on every
 * unit runnable here: AVX512-BF16 and AMX-BF16 on hardware, and the AMX kernels on the software tile model of the
 * test build (native/target/amx-emulated), so the tiling is tested on CPUs without AMX. A unit this CPU lacks is
 * skipped with its name and the reason.
 */
class Bf16KernelsTest {
    private static final ScalarKernels ORACLE = new ScalarKernels();
    /** FP32 sums of products that are exact in FP32 (bf16 × bf16): only the accumulation rounds. */
    private static final double GEMM_RTOL = 1e-5;
    /**
     * With q, k, v already bf16, the kernels' one further rounding is of the probabilities, to bf16 before they
     * multiply v: relative error at most u = 2^-8 each, so an output (a weighted mean of v) moves by at most u times
     * the mean of |v| under the weights, and by about u/√3 times the output's scale on random data. Two u: the
     * worst case against an element's own size plus the output RMS (see assertClose), where FP32 summation order
     * adds only ~1e-6.
     */
    private static final double ATTENTION_RTOL = 2 * 0x1p-8;

    private record Target(String label, Optional<NativeMatrix> engines, NativeMatrix.Unit unit, String missing) {
        Bf16Kernels kernels() {
            Assumptions.assumeTrue(engines.isPresent() && engines.get().has(unit), "skipped: " + label + " not runnable: " + missing);
            return new Bf16Kernels(engines.get(), unit, new JavaKernels());
        }
    }

    private static List<Target> targets() {
        Optional<NativeMatrix> hw = NativeMatrix.get();
        String hwMissing = hw.map(m -> "this CPU has no AVX512-BF16").orElse("native library unavailable");
        return List.of(
                new Target("AVX512-BF16", hw, NativeMatrix.Unit.AVX512_BF16, hwMissing),
                new Target("AMX-BF16", hw, NativeMatrix.Unit.AMX, hw.map(NativeMatrix::amxUnavailableReason).orElse("native library unavailable")),
                new Target("AMX-BF16 on the tile model", EmulatedAmx.matrix(), NativeMatrix.Unit.AMX,
                        String.valueOf(EmulatedAmx.unavailableReason())));
    }

    /** A copy of {@code count} floats rounded to bf16, as the kernels see them. */
    static MemorySegment roundedToBf16(MemorySegment s, long count) {
        MemorySegment r = zeros(count);
        for (long i = 0; i < count; i++) r.setAtIndex(F32_LE, i, Tensor.bf16ToFloat(Tensor.floatToBf16(s.getAtIndex(F32_LE, i))));
        return r;
    }

    static Tensor roundedToBf16(Tensor w) {
        Tensor r = Tensor.zeros(DType.F32, w.shape());
        for (long i = 0; i < w.numel(); i++) r.setFloat(i, Tensor.bf16ToFloat(Tensor.floatToBf16(w.getFloat(i))));
        return r;
    }

    /**
     * m, n, k around every boundary: 32 × 32 blocks and 16-column tiles (AMX), 8 × 48 tiles (AVX512-BF16), k pairs
     * and 32-deep tiles, and a long k (2000) whose column block's weights outgrow L1 with a k tail.
     */
    private static final int[][] GEMM_SHAPES = {
            {1, 1, 1}, {3, 17, 33}, {17, 67, 130}, {33, 130, 67}, {32, 32, 32}, {64, 48, 64}, {9, 97, 1152},
            {67, 49, 8}, {130, 3, 17}, {5, 1152, 40}, {31, 16, 31}, {100, 200, 300}, {40, 70, 2000},
    };

    @TestFactory
    List<DynamicTest> gemmMatchesOracleOnBf16Inputs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int[] s : GEMM_SHAPES) {
                for (DType dtype : new DType[]{DType.F32, DType.BF16, DType.F16}) {
                    String name = t.label + " m=" + s[0] + " n=" + s[1] + " k=" + s[2] + " " + dtype;
                    tests.add(DynamicTest.dynamicTest(name, () -> gemmCase(t.kernels(), s[0], s[1], s[2], dtype, name)));
                }
            }
        }
        return tests;
    }

    /**
     * The native GELU-tanh pass gives the Java kernels' bits: lengths around its 16-float vectors and its 64K-float
     * chunks, values where GELU bends, far out where its exp clamps, and on a heap segment.
     */
    @TestFactory
    List<DynamicTest> geluTanhGivesTheJavaKernelsBits() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (long n : new long[] {1, 15, 16, 17, 1000, (1 << 16) + 3, 200_003}) {
                String name = t.label + " n=" + n;
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Bf16Kernels kernels = t.kernels();
                    SplittableRandom r = new SplittableRandom(n);
                    MemorySegment x = zeros(n);
                    for (long i = 0; i < n; i++) x.setAtIndex(F32_LE, i, (float) (i % 7 == 0 ? 60 * r.nextGaussian() : 3 * r.nextGaussian()));
                    MemorySegment expected = zeros(n).copyFrom(x), heap = MemorySegment.ofArray(x.toArray(F32_LE));
                    new JavaKernels().geluTanh(expected, n);
                    kernels.geluTanh(x, n);
                    kernels.geluTanh(heap, n);
                    for (long i = 0; i < n; i++) {
                        float e = expected.getAtIndex(F32_LE, i);
                        assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(x.getAtIndex(F32_LE, i)), name + " at " + i);
                        assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(heap.getAtIndex(F32_LE, i)), name + " heap at " + i);
                    }
                }));
            }
        }
        return tests;
    }

    private static void gemmCase(Bf16Kernels kernels, int m, int n, int k, DType dtype, String name) {
        SplittableRandom r = new SplittableRandom(name.hashCode());
        MemorySegment x = random(r, (long) m * k, -2f, 2f);
        Tensor w = unalignedWeight(r, dtype, n, k);
        MemorySegment bias = (m + n) % 2 == 0 ? random(r, n) : null;
        MemorySegment expected = zeros((long) m * n), actual = zeros((long) m * n);
        ORACLE.gemm(roundedToBf16(x, (long) m * k), m, k, roundedToBf16(w), bias, expected);
        kernels.gemm(x, m, k, w, bias, actual);
        assertClose(expected, actual, (long) m * n, GEMM_RTOL, name);
    }

    /**
     * A weight multiplied once (a text encoder's) gives the same bits as through {@link Bf16Kernels#gemm}, and no
     * packed copy of it is kept; a weight already kept packed is used as it is.
     */
    @TestFactory
    List<DynamicTest> gemmOnceKeepsNoPackedCopy() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int[] s : new int[][]{{3, 17, 33}, {40, 70, 2000}}) {
                String name = t.label + " once m=" + s[0] + " n=" + s[1] + " k=" + s[2];
                tests.add(DynamicTest.dynamicTest(name, () -> gemmOnceCase(t.kernels(), s[0], s[1], s[2], name)));
            }
        }
        return tests;
    }

    private static void gemmOnceCase(Bf16Kernels kernels, int m, int n, int k, String name) {
        SplittableRandom r = new SplittableRandom(name.hashCode());
        MemorySegment x = random(r, (long) m * k, -2f, 2f), bias = random(r, n);
        Tensor w = unalignedWeight(r, DType.BF16, n, k);
        MemorySegment once = zeros((long) m * n), kept = zeros((long) m * n), onceAfterKept = zeros((long) m * n);
        kernels.gemmOnce(x, m, k, w, bias, once);
        assertEquals(0, kernels.keptPackedWeights(), name + ": gemmOnce kept a packed copy");
        kernels.gemm(x, m, k, w, bias, kept);
        assertEquals(1, kernels.keptPackedWeights(), name + ": gemm keeps its packed copy");
        kernels.gemmOnce(x, m, k, w, bias, onceAfterKept);
        assertClose(kept, once, (long) m * n, 0, name + ": gemmOnce against gemm");
        assertClose(kept, onceAfterKept, (long) m * n, 0, name + ": gemmOnce on a kept weight");
    }

    /**
     * What BF16 costs in accuracy, at a PixArt shape (256 tokens, 1152 → 1152) with Gaussian F32 operands: the
     * relative Frobenius error against the exact product (FP64 of the unrounded inputs). Rounding both operands
     * to 8 significant bits gives each product a relative error of about √2 · 2^-9 / √3 ≈ 1.6e-3 and the sums
     * average it: the measured figure must be of that size (it is printed for docs/RESULTS.md).
     */
    @TestFactory
    List<DynamicTest> relativeErrorIsThatOfRoundingTheInputs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            tests.add(DynamicTest.dynamicTest(t.label, () -> {
                Bf16Kernels kernels = t.kernels();
                int m = 256, n = 1152, k = 1152;
                SplittableRandom r = new SplittableRandom(17);
                MemorySegment x = zeros((long) m * k);
                for (long i = 0; i < (long) m * k; i++) x.setAtIndex(F32_LE, i, (float) r.nextGaussian());
                Tensor w = Tensor.zeros(DType.F32, n, k);
                for (long i = 0; i < w.numel(); i++) w.setFloat(i, (float) (r.nextGaussian() / Math.sqrt(k)));
                MemorySegment got = zeros((long) m * n);
                kernels.gemm(x, m, k, w, null, got);
                double err = 0, norm = 0;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double exact = 0;
                        for (int c = 0; c < k; c++) exact += (double) x.getAtIndex(F32_LE, (long) i * k + c) * w.getFloat((long) j * k + c);
                        double d = got.getAtIndex(F32_LE, (long) i * n + j) - exact;
                        err += d * d;
                        norm += exact * exact;
                    }
                }
                double rel = Math.sqrt(err / norm);
                System.err.printf("[bf16] %s: relative Frobenius error of a 256x1152x1152 GEMM vs exact: %.3e%n", t.label, rel);
                assertTrue(rel > 5e-4 && rel < 5e-3, t.label + ": relative error " + rel + " is not that of bf16 inputs");
            }));
        }
        return tests;
    }

    /** 1 and 3 threads (different task grids) give the same bits; a second call reuses the packed weight. */
    @TestFactory
    List<DynamicTest> threadSplitsAgreeAndPackingIsKept() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            tests.add(DynamicTest.dynamicTest(t.label, () -> {
                Bf16Kernels kernels = t.kernels();
                int m = 130, n = 200, k = 300, before = Parallel.threads();
                SplittableRandom r = new SplittableRandom(5);
                MemorySegment x = random(r, (long) m * k);
                Tensor w = unalignedWeight(r, DType.BF16, n, k);
                MemorySegment one = zeros((long) m * n), three = zeros((long) m * n);
                try {
                    Parallel.setThreads(1);
                    kernels.gemm(x, m, k, w, null, one);
                    NativeMatrix.PackedBf16 first = kernels.packedFor(w);
                    Parallel.setThreads(3);
                    kernels.gemm(x, m, k, w, null, three);
                    assertTrue(first == kernels.packedFor(w), "the packed weight is made once");
                } finally {
                    Parallel.setThreads(before);
                }
                assertClose(one, three, (long) m * n, 0, t.label + " 1 vs 3 threads");
            }));
        }
        return tests;
    }

    /**
     * lq, lk, heads, headDim around every boundary: query tiles of 6 (AVX512-BF16) and 32 (AMX), key blocks of 32
     * and 64, 16-dimension vectors and 32-deep tiles; the models' head dims 64, 72 and 128, odd ones, and 1; key
     * counts past one chunk of the AMX kernel's softmax (1024 keys) and past two.
     */
    private static final int[][] ATTENTION_SHAPES = {
            {1, 1, 1, 1}, {3, 17, 2, 8}, {17, 3, 3, 17}, {67, 130, 2, 72}, {130, 67, 1, 40}, {33, 129, 2, 33},
            {64, 277, 2, 12}, {31, 132, 3, 72}, {40, 64, 2, 64}, {32, 96, 1, 130}, {37, 95, 2, 128}, {13, 200, 1, 64},
            {71, 33, 2, 127}, {6, 65, 1, 129}, {35, 2100, 1, 72}, {3, 1057, 2, 40},
    };

    /** What is added to the scores: nothing, a per-key mask with -inf, a per-head bias, or both. */
    private enum Biases {
        NONE, KEY_MASK, PER_HEAD, BOTH;

        boolean keys() {
            return this == KEY_MASK || this == BOTH;
        }

        boolean heads() {
            return this == PER_HEAD || this == BOTH;
        }
    }

    @TestFactory
    List<DynamicTest> attentionMatchesOracleOnBf16Inputs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int[] s : ATTENTION_SHAPES) {
                for (Biases biases : Biases.values()) {
                    String name = t.label + " lq=" + s[0] + " lk=" + s[1] + " heads=" + s[2] + " d=" + s[3] + " bias " + biases;
                    tests.add(DynamicTest.dynamicTest(name, () -> attentionCase(t.kernels(), s[0], s[1], s[2], s[3], biases, name)));
                }
            }
        }
        return tests;
    }

    /**
     * Few keys, which the kernels attend from the rows without packing (up to NativeMatrix.SHORT_MAX_KEYS keys and
     * SHORT_MAX_HEAD_DIM dimensions, no biases): key counts around each 16-key vector and both limits (65 keys and
     * 129 dimensions take the packed path), query counts around the 4-query block, head dims 1, odd, 72 and 128, and a
     * temporal attention's shape (16 frames, many heads).
     */
    private static final int[][] FEW_KEY_SHAPES = {
            {1, 1, 1, 1}, {5, 15, 3, 7}, {16, 16, 40, 72}, {7, 17, 2, 72}, {3, 33, 2, 128}, {21, 48, 1, 31},
            {9, 63, 2, 16}, {4, 64, 3, 72}, {6, 65, 2, 72}, {5, 16, 2, 129}, {130, 12, 1, 72},
    };

    @TestFactory
    List<DynamicTest> attentionOverFewKeysMatchesOracle() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int[] s : FEW_KEY_SHAPES) {
                String name = t.label + " few keys lq=" + s[0] + " lk=" + s[1] + " heads=" + s[2] + " d=" + s[3];
                tests.add(DynamicTest.dynamicTest(name, () -> attentionCase(t.kernels(), s[0], s[1], s[2], s[3], Biases.NONE, name)));
            }
        }
        return tests;
    }

    /**
     * Scores of a few hundred (scale 5 on q·k of up to ~40): e^s overflows FP32 past 88, so a softmax that
     * subtracts less than the true max of a row returns inf or NaN. Without biases and padding (lk = 96, and the
     * first chunk of lk = 1100) the AMX kernel takes the max of the raw scores; with padding (lk = 90) and with a key
     * mask, of the scaled and biased ones.
     */
    @TestFactory
    List<DynamicTest> largeScoresStayFinite() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int lk : new int[]{96, 90, 1100}) {
                for (Biases biases : new Biases[]{Biases.NONE, Biases.KEY_MASK}) {
                    String name = t.label + " lk=" + lk + " bias " + biases + " scale 5";
                    tests.add(DynamicTest.dynamicTest(name, () -> attentionCase(t.kernels(), 40, lk, 2, 64, biases, 5f, name)));
                }
            }
        }
        return tests;
    }

    private static void attentionCase(Bf16Kernels kernels, int lq, int lk, int heads, int d, Biases biases, String name) {
        attentionCase(kernels, lq, lk, heads, d, biases, (float) (1 / Math.sqrt(d)), name);
    }

    /** q, k, v read in place from a fused buffer with strides that differ from heads · headDim, as the models do. */
    private static void attentionCase(Bf16Kernels kernels, int lq, int lk, int heads, int d, Biases biases, float scale,
                                      String name) {
        SplittableRandom r = new SplittableRandom(name.hashCode());
        int width = heads * d, stride = 3 * width + 5, oStride = width + 3, rows = Math.max(lq, lk);
        MemorySegment qkv = random(r, (long) rows * stride, -2f, 2f);
        MemorySegment rounded = roundedToBf16(qkv, (long) rows * stride);
        MemorySegment mask = null, perHead = null;
        if (biases.keys()) {
            mask = random(r, lk);
            for (int j = 1; j < lk; j += 3) mask.setAtIndex(F32_LE, j, Float.NEGATIVE_INFINITY);
        }
        if (biases.heads()) perHead = random(r, (long) heads * lq * lk, -3f, 3f);
        AttentionBias bias = new AttentionBias(mask, perHead);
        MemorySegment expected = zeros((long) lq * oStride), actual = zeros((long) lq * oStride);
        long w = (long) width * Float.BYTES;
        ORACLE.attention(rounded, stride, rounded.asSlice(w), stride, rounded.asSlice(2 * w), stride, expected, oStride,
                lq, lk, heads, d, scale, bias);
        kernels.attention(qkv, stride, qkv.asSlice(w), stride, qkv.asSlice(2 * w), stride, actual, oStride,
                lq, lk, heads, d, scale, bias);
        assertClose(expected, actual, (long) lq * oStride, ATTENTION_RTOL, name);
    }

    /**
     * What BF16 attention costs in accuracy against FP32 arithmetic on unrounded inputs, at Wan's head shape (128
     * dims, 200 tokens, Gaussian q, k, v with softmax temperature as in the models): the relative Frobenius error
     * against the FP32 flash attention. Rounding q and k moves each score by about √d · 2^-8 / √3 of its scale and
     * rounding v and the weights adds ~2^-8 / √3 each: the figure must be of that size (printed for docs/RESULTS.md).
     */
    @TestFactory
    List<DynamicTest> attentionErrorAgainstFp32IsThatOfRoundingTheInputs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            tests.add(DynamicTest.dynamicTest(t.label, () -> {
                Bf16Kernels kernels = t.kernels();
                int l = 200, heads = 2, d = 128, width = heads * d;
                SplittableRandom r = new SplittableRandom(29);
                MemorySegment q = gaussian(r, (long) l * width), k = gaussian(r, (long) l * width), v = gaussian(r, (long) l * width);
                MemorySegment fp32 = zeros((long) l * width), bf16 = zeros((long) l * width);
                float scale = (float) (1 / Math.sqrt(d));
                new JavaKernels().attention(q, width, k, width, v, width, fp32, width, l, l, heads, d, scale, AttentionBias.NONE);
                kernels.attention(q, width, k, width, v, width, bf16, width, l, l, heads, d, scale, AttentionBias.NONE);
                double err = 0, norm = 0;
                for (long i = 0; i < (long) l * width; i++) {
                    double e = fp32.getAtIndex(F32_LE, i), diff = bf16.getAtIndex(F32_LE, i) - e;
                    err += diff * diff;
                    norm += e * e;
                }
                double rel = Math.sqrt(err / norm);
                System.err.printf("[bf16] %s: relative Frobenius error of attention (200 tokens, 2 x 128) vs fp32: %.3e%n", t.label, rel);
                assertTrue(rel > 1e-4 && rel < 2e-2, t.label + ": relative error " + rel + " is not that of bf16 inputs");
            }));
        }
        return tests;
    }

    /**
     * Each query's arithmetic does not depend on which task or tile it falls in: 1 and 3 threads give the same bits.
     * lq = 203 over 3 heads splits each head into several tasks at both counts; lq = 64 over 4 heads is one task
     * per head on one thread (packing and attending in the same task) and two per head on three. Over 16 keys (no
     * packing) the 3 heads of 203 queries split their queries between tasks, and 50 heads of 16 split only by head.
     */
    @TestFactory
    List<DynamicTest> attentionThreadSplitsAgree() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int[] shape : new int[][]{{203, 150, 3}, {64, 150, 4}, {203, 16, 3}, {16, 16, 50}}) {
                String name = t.label + " lq=" + shape[0] + " heads=" + shape[2];
                tests.add(DynamicTest.dynamicTest(name, () -> threadSplitCase(t.kernels(), shape[0], shape[1], shape[2], name)));
            }
        }
        return tests;
    }

    private static void threadSplitCase(Bf16Kernels kernels, int lq, int lk, int heads, String name) {
        int d = 72, width = heads * d, before = Parallel.threads();
        SplittableRandom r = new SplittableRandom(8);
        MemorySegment q = random(r, (long) lq * width), k = random(r, (long) lk * width), v = random(r, (long) lk * width);
        MemorySegment one = zeros((long) lq * width), three = zeros((long) lq * width);
        try {
            Parallel.setThreads(1);
            kernels.attention(q, width, k, width, v, width, one, width, lq, lk, heads, d, 0.1f, AttentionBias.NONE);
            Parallel.setThreads(3);
            kernels.attention(q, width, k, width, v, width, three, width, lq, lk, heads, d, 0.1f, AttentionBias.NONE);
        } finally {
            Parallel.setThreads(before);
        }
        assertClose(one, three, (long) lq * width, 0, name + ": attention 1 vs 3 threads");
    }

    private static MemorySegment gaussian(SplittableRandom r, long count) {
        MemorySegment s = zeros(count);
        for (long i = 0; i < count; i++) s.setAtIndex(F32_LE, i, (float) r.nextGaussian());
        return s;
    }

    /**
     * The first keys masked (199 of 300; 1100 of 1300, the AMX kernel's whole first chunk): the first blocks see only
     * -inf, and must not turn the later real keys into NaN.
     */
    @TestFactory
    List<DynamicTest> fullyMaskedFirstKeyBlocksDoNotPoisonLaterKeys() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Target t : targets()) {
            for (int[] keys : new int[][]{{300, 200}, {1300, 1100}}) {
                tests.add(DynamicTest.dynamicTest(t.label + " lk=" + keys[0] + " masked " + keys[1],
                        () -> maskedPrefixCase(t, keys[0], keys[1])));
            }
        }
        return tests;
    }

    private static void maskedPrefixCase(Target t, int lk, int masked) {
        Bf16Kernels kernels = t.kernels();
        int lq = 5, heads = 2, d = 24, width = heads * d;
        SplittableRandom r = new SplittableRandom(3);
        MemorySegment q = random(r, (long) lq * width), k = random(r, (long) lk * width), v = random(r, (long) lk * width);
        MemorySegment mask = zeros(lk);
        for (int j = 0; j < masked; j++) mask.setAtIndex(F32_LE, j, Float.NEGATIVE_INFINITY);
        MemorySegment expected = zeros((long) lq * width), actual = zeros((long) lq * width);
        ORACLE.attention(roundedToBf16(q, (long) lq * width), width, roundedToBf16(k, (long) lk * width), width,
                roundedToBf16(v, (long) lk * width), width, expected, width, lq, lk, heads, d, 0.2f, AttentionBias.perKey(mask));
        kernels.attention(q, width, k, width, v, width, actual, width, lq, lk, heads, d, 0.2f, AttentionBias.perKey(mask));
        assertClose(expected, actual, (long) lq * width, ATTENTION_RTOL, t.label + " behind masked blocks");
    }
}
