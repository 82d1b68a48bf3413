package dev.viditq.core.kernels.quant;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Activation quantization: every native ISA equals the Java kernels bit for bit (same arithmetic), and both
 * match the scalar oracle (dense rotation in double) up to float rounding: scales within 1e-5 relative, q
 * within 1 and rarely different.
 */
class QuantizeDifferentialTest {
    private record Case(int rows, int k, String transform) {}

    private static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (int[] rk : new int[][] {{1, 1}, {3, 17}, {17, 33}, {4, 130}, {2, 1152}}) {
            cases.add(new Case(rk[0], rk[1], "none"));
            cases.add(new Case(rk[0], rk[1], "smooth"));
        }
        cases.add(new Case(3, 130, "plain:2"));
        cases.add(new Case(5, 96, "plain:16"));
        cases.add(new Case(5, 96, "random:12"));
        cases.add(new Case(5, 96, "random:96"));
        cases.add(new Case(7, 40, "smooth+random:20"));
        cases.add(new Case(3, 24, "random:8"));
        cases.add(new Case(33, 1152, "smooth+random:128"));
        cases.add(new Case(9, 1152, "random:1152"));
        cases.add(new Case(6, 1152, "smooth+random:144"));
        cases.add(new Case(67, 256, "random:256"));
        // a dense factor over rows in groups (of 4): every remainder of a group, several blocks per row
        cases.add(new Case(6, 768, "smooth+random:768"));
        cases.add(new Case(3, 2304, "random:1152"));
        cases.add(new Case(5, 5120, "random:5120"));
        cases.add(new Case(8, 640, "random:320"));
        // H_140 (Paley I, q = 139): 35 quads per output; grouped (Wan's FFN, 8960 = 140 · 64) and not (hp = 2)
        cases.add(new Case(5, 8960, "smooth+random:8960"));
        cases.add(new Case(6, 280, "random:280"));
        // every sub-block size the vector kernel transforms in registers: hp = 16 (192 = 12 · 16), 128 (4608 = 36 · 128)
        cases.add(new Case(7, 384, "smooth+random:192"));
        cases.add(new Case(5, 4608, "random:4608"));
        return cases;
    }

    private static ActivationTransform transform(Case c, Random rnd) {
        if (c.transform.equals("none")) return null;
        float[] smooth = null;
        if (c.transform.startsWith("smooth")) {
            smooth = new float[c.k];
            for (int i = 0; i < c.k; i++) smooth[i] = (float) Math.exp(rnd.nextGaussian());
        }
        HadamardRotation rot = null;
        int colon = c.transform.indexOf(':');
        if (colon > 0) {
            int block = Integer.parseInt(c.transform.substring(colon + 1));
            rot = c.transform.contains("random") ? HadamardRotation.randomized(c.k, block, rnd.nextLong())
                    : HadamardRotation.plain(c.k, block);
        }
        return ActivationTransform.of(c.k, smooth, rot);
    }

    /** Heavy-tailed tokens with a few outlier channels, like DiT activations. */
    static MemorySegment randomActivations(int rows, int k, Random rnd) {
        Tensor t = Tensor.zeros(rows, k);
        for (int r = 0; r < rows; r++) {
            double tokenScale = Math.exp(2 * rnd.nextGaussian());
            for (int c = 0; c < k; c++) {
                double v = rnd.nextGaussian() * tokenScale * (c % 13 == 5 ? 20 : 1);
                t.data().setAtIndex(Tensor.F32_LE, (long) r * k + c, (float) v);
            }
        }
        return t.data();
    }

    @TestFactory
    List<DynamicTest> fastImplementationsAgree() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            tests.add(DynamicTest.dynamicTest(c.toString(), () -> check(c)));
        }
        return tests;
    }

    private static void check(Case c) {
        Random rnd = new Random(c.hashCode());
        MemorySegment x = randomActivations(c.rows, c.k, rnd);
        ActivationTransform t = transform(c, rnd);
        QuantizedActivations oracle = QuantizedActivations.allocate(c.rows, c.k);
        new ScalarIntKernels().quantize(x, c.rows, c.k, t, oracle);
        QuantizedActivations reference = null;
        for (IntKernels impl : Implementations.fast()) {
            QuantizedActivations got = QuantizedActivations.allocate(c.rows + 2, c.k);
            impl.quantize(x, c.rows, c.k, t, got);
            String what = impl.name() + " " + c;
            checkConsistent(got, what);
            checkCloseToOracle(oracle, got, what);
            if (reference == null) reference = got;
            else assertBitwiseEqual(reference, got, what + " vs " + Implementations.java().name());
        }
    }

    /** Cutting the rows into ranges for the threads (up to four per thread) changes no byte. */
    @Test
    void rowRangesAgree() {
        int before = Parallel.threads();
        try {
            Case c = new Case(67, 1152, "smooth+random:1152");
            Random rnd = new Random(5);
            MemorySegment x = randomActivations(c.rows, c.k, rnd);
            ActivationTransform t = transform(c, rnd);
            for (IntKernels impl : Implementations.fast()) {
                Parallel.setThreads(1);
                QuantizedActivations one = QuantizedActivations.allocate(c.rows, c.k);
                impl.quantize(x, c.rows, c.k, t, one);
                for (int threads : new int[] {3, 16}) {
                    Parallel.setThreads(threads);
                    QuantizedActivations many = QuantizedActivations.allocate(c.rows, c.k);
                    impl.quantize(x, c.rows, c.k, t, many);
                    assertBitwiseEqual(one, many, impl.name() + " " + c + ": 1 vs " + threads + " threads");
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Row sums are the sums of q, and the padding of each row is zero. */
    private static void checkConsistent(QuantizedActivations a, String what) {
        for (int r = 0; r < a.rows(); r++) {
            int sum = 0;
            for (int c = 0; c < a.k(); c++) {
                assertTrue(a.q(r, c) >= -127, what);
                sum += a.q(r, c);
            }
            assertEquals(sum, a.rowSum(r), what + " row sum " + r);
            for (int c = a.k(); c < a.ldq(); c++) {
                assertEquals(0, a.qSegment().get(ValueLayout.JAVA_BYTE, (long) r * a.ldq() + c), what + " padding");
            }
        }
    }

    private static void checkCloseToOracle(QuantizedActivations oracle, QuantizedActivations got, String what) {
        int differing = 0;
        for (int r = 0; r < oracle.rows(); r++) {
            assertEquals(oracle.scale(r), got.scale(r), 1e-5 * oracle.scale(r), what + " scale of row " + r);
            for (int c = 0; c < oracle.k(); c++) {
                int d = Math.abs(oracle.q(r, c) - got.q(r, c));
                if (d > 1) fail(what + ": q(" + r + "," + c + ") = " + got.q(r, c) + ", oracle " + oracle.q(r, c));
                differing += d;
            }
        }
        int total = oracle.rows() * oracle.k();
        assertTrue(differing <= Math.max(2, total / 500), what + ": " + differing + " of " + total + " values off by one");
    }

    static void assertBitwiseEqual(QuantizedActivations a, QuantizedActivations b, String what) {
        assertEquals(a.rows(), b.rows(), what);
        for (int r = 0; r < a.rows(); r++) {
            assertEquals(Float.floatToRawIntBits(a.scale(r)), Float.floatToRawIntBits(b.scale(r)),
                    what + ": scale of row " + r + " " + a.scale(r) + " vs " + b.scale(r));
            assertEquals(a.rowSum(r), b.rowSum(r), what + ": row sum " + r);
            for (int c = 0; c < a.k(); c++) assertEquals(a.q(r, c), b.q(r, c), what + ": q(" + r + "," + c + ")");
        }
    }

    @Test
    void zeroRowsGetScaleZero() {
        int k = 40;
        MemorySegment x = Tensor.zeros(2, k).data();
        x.setAtIndex(Tensor.F32_LE, k + 3, 2.5f);
        for (IntKernels impl : Implementations.fast()) {
            QuantizedActivations q = QuantizedActivations.allocate(2, k);
            impl.quantize(x, 2, k, ActivationTransform.of(k, null, HadamardRotation.randomized(k, 20, 1)), q);
            assertEquals(0f, q.scale(0), impl.name());
            for (int c = 0; c < k; c++) assertEquals(0, q.q(0, c), impl.name());
            assertTrue(q.scale(1) > 0, impl.name());
        }
    }

    @Test
    void roundsHalfToEven() {
        // absmax 127 gives scale 1, so q = rint(x): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2
        float[] values = {127f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -126.5f, 3.49f};
        int[] expected = {127, 0, 2, 2, 0, -2, -126, 3};
        Tensor x = Tensor.of(values, 1, values.length);
        for (IntKernels impl : Implementations.fast()) {
            QuantizedActivations q = QuantizedActivations.allocate(1, values.length);
            impl.quantize(x.data(), 1, values.length, null, q);
            for (int i = 0; i < values.length; i++) assertEquals(expected[i], q.q(0, i), impl.name() + " value " + values[i]);
        }
    }

    @Test
    void heapInputWorks() {
        int rows = 5, k = 33;
        MemorySegment offHeap = randomActivations(rows, k, new Random(5));
        MemorySegment heap = MemorySegment.ofArray(offHeap.toArray(ValueLayout.JAVA_FLOAT));
        for (IntKernels impl : Implementations.fast()) {
            QuantizedActivations a = QuantizedActivations.allocate(rows, k), b = QuantizedActivations.allocate(rows, k);
            impl.quantize(offHeap, rows, k, null, a);
            impl.quantize(heap, rows, k, null, b);
            assertBitwiseEqual(a, b, impl.name() + " heap vs off-heap");
        }
    }
}
