package dev.viditq.core.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.viditq.core.kernels.KernelTestSupport.assertClose;
import static dev.viditq.core.kernels.KernelTestSupport.copy;
import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Norms, softmax, activations and element-wise arithmetic of {@link JavaKernels} against {@link ScalarKernels},
 * at lengths around the vector width and chunk size, in place where the interface allows it.
 */
class ElementwiseKernelTest {
    private static final ScalarKernels ORACLE = new ScalarKernels();
    private static final JavaKernels FAST = new JavaKernels();
    /** Row lengths / element counts: shorter than a vector, tails, and more than one 16384-element chunk. */
    private static final int[] LENGTHS = {1, 3, 16, 17, 33, 67, 130, 1152, 40_000};

    @ParameterizedTest(name = "dim={0}")
    @ValueSource(ints = {1, 3, 17, 33, 67, 130, 1152})
    void layerNormWithAndWithoutAffine(int dim) {
        SplittableRandom r = new SplittableRandom(dim);
        int rows = 5;
        // an offset mean tests that the variance is taken around the mean, not as E[x²] - E[x]²
        MemorySegment x = random(r, (long) rows * dim, 9f, 11f), gamma = random(r, dim), beta = random(r, dim);
        MemorySegment[][] affine = {{null, null}, {gamma, null}, {null, beta}, {gamma, beta}};
        for (MemorySegment[] gb : affine) {
            MemorySegment expected = zeros((long) rows * dim), actual = copy(x);
            ORACLE.layerNorm(x, rows, dim, gb[0], gb[1], 1e-6f, expected);
            FAST.layerNorm(actual, rows, dim, gb[0], gb[1], 1e-6f, actual);   // in place
            assertClose(expected, actual, (long) rows * dim, 1e-4, "layerNorm dim " + dim);
        }
    }

    /**
     * The one-pass LayerNorm-then-modulate of a row range equals the fast LayerNorm followed by the fast modulation
     * bit for bit, and the oracle's within float rounding; rows outside the range are not written.
     */
    @ParameterizedTest(name = "dim={0}")
    @ValueSource(ints = {1, 3, 16, 17, 33, 67, 130, 1152})
    void layerNormAffineRowsIsLayerNormThenAffineRows(int dim) {
        SplittableRandom r = new SplittableRandom(dim + 7);
        int rows = 6, from = 1, to = 5;
        MemorySegment x = random(r, (long) rows * dim, 9f, 11f);
        float[] mul = new float[dim], add = new float[dim];
        for (int c = 0; c < dim; c++) {
            mul[c] = (float) (1 + r.nextGaussian());
            add[c] = (float) r.nextGaussian();
        }
        MemorySegment twoPasses = zeros((long) rows * dim), onePass = zeros((long) rows * dim), oracle = zeros((long) rows * dim);
        long offset = (long) from * dim * 4, bytes = (long) (to - from) * dim * 4;
        FAST.layerNorm(x.asSlice(offset, bytes), to - from, dim, null, null, 1e-6f, twoPasses.asSlice(offset, bytes));
        FAST.affineRows(twoPasses, from, to, dim, mul, add);
        FAST.layerNormAffineRows(x, from, to, dim, 1e-6f, mul, add, onePass);
        ORACLE.layerNormAffineRows(x, from, to, dim, 1e-6f, mul, add, oracle);
        for (long i = 0; i < (long) rows * dim; i++) {
            float expected = twoPasses.getAtIndex(F32_LE, i), actual = onePass.getAtIndex(F32_LE, i);
            if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
                throw new AssertionError("dim " + dim + " element " + i + ": one pass " + actual + ", two passes " + expected);
            }
        }
        assertClose(oracle, onePass, (long) rows * dim, 1e-4, "layerNormAffineRows dim " + dim);
    }

    @ParameterizedTest(name = "dim={0}")
    @ValueSource(ints = {1, 3, 17, 33, 67, 130, 1152})
    void rmsNormWithAndWithoutGamma(int dim) {
        SplittableRandom r = new SplittableRandom(dim + 1);
        int rows = 4;
        MemorySegment x = random(r, (long) rows * dim), gamma = random(r, dim);
        for (MemorySegment g : new MemorySegment[]{null, gamma}) {
            MemorySegment expected = zeros((long) rows * dim), actual = zeros((long) rows * dim);
            ORACLE.rmsNorm(x, rows, dim, g, 1e-6f, expected);
            FAST.rmsNorm(x, rows, dim, g, 1e-6f, actual);
            assertClose(expected, actual, (long) rows * dim, 1e-5, "rmsNorm dim " + dim);
        }
    }

    @ParameterizedTest(name = "spatial={0}")
    @ValueSource(ints = {1, 3, 17, 67, 130})
    void groupNorm(int spatial) {
        SplittableRandom r = new SplittableRandom(spatial);
        int channels = 12, groups = 4;
        long n = (long) channels * spatial;
        MemorySegment x = random(r, n, 3f, 5f), gamma = random(r, channels), beta = random(r, channels);
        for (boolean affine : new boolean[]{false, true}) {
            MemorySegment expected = zeros(n), actual = copy(x);
            ORACLE.groupNorm(x, channels, spatial, groups, affine ? gamma : null, affine ? beta : null, 1e-5f, expected);
            FAST.groupNorm(actual, channels, spatial, groups, affine ? gamma : null, affine ? beta : null, 1e-5f, actual);
            assertClose(expected, actual, n, 1e-4, "groupNorm spatial " + spatial);
        }
    }

    @ParameterizedTest(name = "cols={0}")
    @ValueSource(ints = {1, 3, 17, 33, 67, 130, 1152})
    void softmaxWithMaskedEntries(int cols) {
        SplittableRandom r = new SplittableRandom(cols);
        int rows = 6;
        MemorySegment x = random(r, (long) rows * cols, -20f, 20f);
        for (int i = 1; i < rows * cols; i += 4) {
            if (i % cols != 0) x.setAtIndex(F32_LE, i, Float.NEGATIVE_INFINITY);   // never a whole row
        }
        MemorySegment expected = copy(x), actual = copy(x);
        ORACLE.softmax(expected, rows, cols);
        FAST.softmax(actual, rows, cols);
        assertClose(expected, actual, (long) rows * cols, 1e-5, "softmax cols " + cols);
    }

    @Test
    void activations() {
        for (int n : LENGTHS) {
            SplittableRandom r = new SplittableRandom(n);
            // wide range: the tails of gelu/silu (tiny negatives, identity for large x) and values near 0
            MemorySegment x = random(r, n, -12f, 12f);
            check(n, x, "geluTanh", ORACLE::geluTanh, FAST::geluTanh);
            check(n, x, "geluErf", ORACLE::geluErf, FAST::geluErf);
            check(n, x, "silu", ORACLE::silu, FAST::silu);
        }
    }

    private interface InPlace {
        void apply(MemorySegment x, long n);
    }

    /** Elementwise relative accuracy (a few float ulps), with an absolute floor only for values near zero. */
    private static void check(int n, MemorySegment x, String what, InPlace oracle, InPlace fast) {
        MemorySegment expected = copy(x), actual = copy(x);
        oracle.apply(expected, n);
        fast.apply(actual, n);
        float[] e = KernelTestSupport.floats(expected, n), a = KernelTestSupport.floats(actual, n);
        for (int i = 0; i < n; i++) {
            double tol = 2e-6 * Math.abs(e[i]) + 1e-12;
            if (!(Math.abs(a[i] - e[i]) <= tol)) {
                throw new AssertionError(what + "(" + x.getAtIndex(F32_LE, i) + ") = " + e[i] + " but was " + a[i]);
            }
        }
    }

    @Test
    void addAndMulAllowAliasing() {
        for (int n : LENGTHS) {
            SplittableRandom r = new SplittableRandom(n);
            MemorySegment a = random(r, n), b = random(r, n);
            MemorySegment expected = zeros(n);
            ORACLE.add(a, b, expected, n);
            MemorySegment aliasA = copy(a);
            FAST.add(aliasA, b, aliasA, n);
            assertClose(expected, aliasA, n, 1e-7, "add into a");
            ORACLE.mul(a, b, expected, n);
            MemorySegment aliasB = copy(b);
            FAST.mul(a, aliasB, aliasB, n);
            assertClose(expected, aliasB, n, 1e-7, "mul into b");
        }
    }

    @Test
    void expIsAccurateOverTheWholeFloatRange() {
        float[] xs = new float[4096];
        for (int i = 0; i < xs.length; i++) xs[i] = -87f + 175f * i / (xs.length - 1);
        MemorySegment in = zeros(xs.length);
        MemorySegment.copy(xs, 0, in, F32_LE, 0, xs.length);
        for (int i = 0; i < xs.length; i += MicroKernel.L) {
            float[] lanes = new float[MicroKernel.L];
            jdk.incubator.vector.FloatVector v = jdk.incubator.vector.FloatVector.fromArray(MicroKernel.S, xs, i);
            VectorMath.exp(v).intoArray(lanes, 0);
            for (int j = 0; j < lanes.length; j++) {
                double want = Math.exp(xs[i + j]);
                if (Math.abs(lanes[j] - want) > 4e-7 * want) {
                    throw new AssertionError("exp(" + xs[i + j] + ") = " + lanes[j] + ", want " + want);
                }
            }
        }
        jdk.incubator.vector.FloatVector special = jdk.incubator.vector.FloatVector.fromArray(MicroKernel.S,
                filled(Float.NEGATIVE_INFINITY), 0);
        if (VectorMath.exp(special).lane(0) != 0f) throw new AssertionError("exp(-inf) must be 0");
    }

    @Test
    void theScalarTwinsGiveTheVectorFunctionsBitsInEveryLane() {
        SplittableRandom r = new SplittableRandom(11);
        float[] xs = new float[64 * MicroKernel.L];
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
                -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, -87.33654f, -87.33655f, 88.37626f, 88.37627f, 1e-30f,
                -1e-30f, 0.5f, -0.5f, 100f, -100f};
        for (int i = 0; i < xs.length; i++) {
            xs[i] = i < special.length ? special[i] : (float) (r.nextDouble(-100, 100) * (i % 3 == 0 ? 1e-3 : 1));
        }
        float[] lanes = new float[MicroKernel.L];
        for (int i = 0; i < xs.length; i += MicroKernel.L) {
            jdk.incubator.vector.FloatVector v = jdk.incubator.vector.FloatVector.fromArray(MicroKernel.S, xs, i);
            VectorMath.exp(v).intoArray(lanes, 0);
            for (int j = 0; j < lanes.length; j++) assertBits(lanes[j], ScalarTwins.exp(xs[i + j]), "exp", xs[i + j]);
            VectorMath.silu(v).intoArray(lanes, 0);
            for (int j = 0; j < lanes.length; j++) assertBits(lanes[j], ScalarTwins.silu(xs[i + j]), "silu", xs[i + j]);
        }
        // and through the kernel: a small input (the scalar twin) and a large one (the vector loop) agree bit for bit
        int small = 2304;
        MemorySegment x = random(r, 4 * small, -12f, 12f), head = copy(x.asSlice(0, 4L * small));
        FAST.silu(x, 4 * small);
        FAST.silu(head, small);
        assertArrayEquals(KernelTestSupport.floats(x, small), KernelTestSupport.floats(head, small), 0f);
    }

    private static void assertBits(float vector, float scalar, String what, float x) {
        if (Float.floatToIntBits(vector) != Float.floatToIntBits(scalar)) {
            throw new AssertionError(what + "(" + x + "): vector " + vector + ", scalar twin " + scalar);
        }
    }

    private static float[] filled(float v) {
        float[] a = new float[MicroKernel.L];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
