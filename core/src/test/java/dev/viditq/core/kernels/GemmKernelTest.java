package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.viditq.core.kernels.KernelTestSupport.assertClose;
import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.unalignedWeight;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link JavaKernels#gemm} against {@link ScalarKernels#gemm} on random inputs, odd sizes and every weight dtype. */
class GemmKernelTest {
    private static final ScalarKernels ORACLE = new ScalarKernels();
    private static final JavaKernels FAST = new JavaKernels();
    /** float32 sums of up to a few hundred products: errors of a few 1e-7 relative to the terms. */
    private static final double RTOL = 2e-5;

    /**
     * Sizes around every boundary of the implementation: fewer rows than a tile (the small-m path), rows and
     * columns not multiples of the MR × NR = 12 × 32 tile (and of the former 8 × 48 one), k shorter than a vector and k of a few hundred (slices along k:
     * see kIsSlicedIntoPanels).
     */
    static Stream<Arguments> shapes() {
        int[][] mnk = {
                {1, 1, 1}, {1, 67, 130}, {3, 17, 33}, {7, 130, 17}, {8, 48, 16}, {8, 1, 3},
                {17, 33, 67}, {33, 130, 1}, {67, 17, 130}, {130, 67, 33}, {24, 96, 300}, {130, 130, 257},
                {11, 32, 40}, {12, 32, 16}, {13, 65, 72}, {25, 31, 19},
        };
        List<Arguments> out = new ArrayList<>();
        int seed = 0;
        for (int[] s : mnk) {
            for (DType dtype : new DType[]{DType.F32, DType.BF16, DType.F16}) {
                out.add(Arguments.of(s[0], s[1], s[2], dtype, seed++ % 2 == 0));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} {3} bias={4}")
    @MethodSource("shapes")
    void matchesOracle(int m, int n, int k, DType dtype, boolean withBias) {
        SplittableRandom r = new SplittableRandom(31L * m + 7L * n + k);
        MemorySegment x = random(r, (long) m * k);
        Tensor w = unalignedWeight(r, dtype, n, k);
        MemorySegment bias = withBias ? random(r, n) : null;
        MemorySegment expected = zeros((long) m * n), actual = random(r, (long) m * n, 1e6f, 2e6f);
        ORACLE.gemm(x, m, k, w, bias, expected);
        FAST.gemm(x, m, k, w, bias, actual);
        assertClose(expected, actual, (long) m * n, RTOL, "gemm " + m + "×" + n + "×" + k + " " + dtype);
    }

    @Test
    void rowsBeyondOneHeapBlockAreDoneInBlocks() {
        int m = 67, n = 50, k = 130;
        SplittableRandom r = new SplittableRandom(5);
        MemorySegment x = random(r, (long) m * k);
        Tensor w = unalignedWeight(r, DType.BF16, n, k);
        MemorySegment bias = random(r, n), expected = zeros((long) m * n), actual = zeros((long) m * n);
        ORACLE.gemm(x, m, k, w, bias, expected);
        Gemm.gemm(x, m, k, w, bias, actual, 16 * k + 5, Gemm.KC);   // blocks of 16 rows, the last of 3
        assertClose(expected, actual, (long) m * n, RTOL, "gemm over x blocks of 16 rows");
    }

    /** k done in slices (the default slice is deeper than these k): the output tile must accumulate across them. */
    @ParameterizedTest(name = "k slices of {0}")
    @ValueSource(ints = {1, 16, 48, 129})
    void kIsSlicedIntoPanels(int depth) {
        int m = 17, n = 50, k = 130;
        for (DType dtype : new DType[]{DType.F32, DType.BF16, DType.F16}) {
            SplittableRandom r = new SplittableRandom(depth);
            MemorySegment x = random(r, (long) m * k);
            Tensor w = unalignedWeight(r, dtype, n, k);
            MemorySegment bias = random(r, n), expected = zeros((long) m * n), actual = zeros((long) m * n);
            ORACLE.gemm(x, m, k, w, bias, expected);
            Gemm.gemm(x, m, k, w, bias, actual, Gemm.X_BLOCK_FLOATS, depth);
            assertClose(expected, actual, (long) m * n, RTOL, "gemm with k slices of " + depth + ", " + dtype);
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        int m = 67, n = 150, k = 130;
        SplittableRandom r = new SplittableRandom(9);
        MemorySegment x = random(r, (long) m * k), bias = random(r, n);
        Tensor w = unalignedWeight(r, DType.F32, n, k);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            MemorySegment one = zeros((long) m * n);
            FAST.gemm(x, m, k, w, bias, one);
            Parallel.setThreads(3);
            MemorySegment three = zeros((long) m * n);
            FAST.gemm(x, m, k, w, bias, three);
            assertArrayEquals(KernelTestSupport.floats(one, (long) m * n), KernelTestSupport.floats(three, (long) m * n));
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void wrongShapesAreRefusedWithTheirSizes() {
        SplittableRandom r = new SplittableRandom(1);
        Tensor w = unalignedWeight(r, DType.F32, 4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FAST.gemm(random(r, 12), 2, 6, w, null, zeros(8)));
        assertTrue(e.getMessage().contains("k=6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FAST.gemm(random(r, 9), 2, 5, w, null, zeros(8)));
        assertTrue(e.getMessage().contains("gemm input"), e.getMessage());
        Tensor ints = Tensor.zeros(DType.I8, 4, 5);
        e = assertThrows(IllegalArgumentException.class, () -> FAST.gemm(random(r, 10), 2, 5, ints, null, zeros(8)));
        assertTrue(e.getMessage().contains("I8"), e.getMessage());
    }
}
