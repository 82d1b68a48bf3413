package dev.viditq.core.kernels.quant;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.JavaKernels;
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

/**
 * W8A8 and W4A8 GEMMs on random inputs with odd sizes and tails: the native ISAs equal the Java kernels bit for
 * bit; both match the scalar oracle within float rounding, and exactly where the math is integer (unit scales).
 */
class GemmDifferentialTest {
    /**
     * m, n, k; n and k cover panel tails (48), row tails (8 and 4), k tails (4 and 8), and long k (1400 and 2900,
     * both with a k tail).
     */
    private static final int[][] SIZES = {
            {1, 1, 1}, {3, 17, 33}, {17, 67, 130}, {33, 130, 67}, {8, 48, 64}, {9, 97, 1152}, {67, 49, 8},
            {130, 3, 17}, {5, 1152, 40}, {37, 70, 1400}, {33, 40, 2900},
    };

    private record Operands(QuantizedActivations x, MemorySegment bias, int n) {}

    private static Operands operands(int m, int n, int k, boolean unitScales, boolean withBias, Random rnd) {
        byte[] q = new byte[m * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(255) - 127);
        float[] scales = new float[m];
        for (int r = 0; r < m; r++) scales[r] = unitScales ? 1f : (float) Math.exp(rnd.nextGaussian());
        QuantizedActivations x = QuantizedActivations.allocate(m + 1, k).set(m, q, scales);
        MemorySegment bias = null;
        if (withBias) {
            bias = Tensor.zeros(n).data();
            for (int c = 0; c < n; c++) bias.setAtIndex(Tensor.F32_LE, c, (float) rnd.nextGaussian());
        }
        return new Operands(x, bias, n);
    }

    static PackedInt8Weight int8Weight(int n, int k, boolean asymmetric, boolean unitScales, Random rnd) {
        byte[] q = new byte[n * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) rnd.nextInt(256);
        float[] s = new float[n];
        int[] z = asymmetric ? new int[n] : null;
        for (int c = 0; c < n; c++) {
            s[c] = unitScales ? 1f : (float) (0.01 * Math.exp(rnd.nextGaussian()));
            if (z != null) z[c] = rnd.nextInt(256) - 128;
        }
        return PackedInt8Weight.pack(q, n, k, s, z);
    }

    static PackedInt4Weight int4Weight(int n, int k, int groupSize, boolean asymmetric, boolean unitScales, Random rnd) {
        byte[] q = new byte[n * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(16) - 8);
        int groups = PackedInt4Weight.groupCount(k, groupSize);
        float[] s = new float[n * groups];
        int[] z = asymmetric ? new int[n * groups] : null;
        for (int i = 0; i < s.length; i++) {
            s[i] = unitScales ? 1f : (float) (0.1 * Math.exp(rnd.nextGaussian()));
            if (z != null) z[i] = rnd.nextInt(16) - 8;
        }
        return PackedInt4Weight.pack(q, n, k, groupSize, s, z);
    }

    @TestFactory
    List<DynamicTest> int8() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] s : SIZES) {
            for (boolean asym : new boolean[] {false, true}) {
                String name = "W8A8 m=" + s[0] + " n=" + s[1] + " k=" + s[2] + (asym ? " asymmetric" : " symmetric");
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Random rnd = new Random(name.hashCode());
                    Operands o = operands(s[0], s[1], s[2], false, asym, rnd);
                    compare(o, int8Weight(s[1], s[2], asym, false, rnd), false, name);
                    Operands unit = operands(s[0], s[1], s[2], true, false, rnd);
                    compare(unit, int8Weight(s[1], s[2], asym, true, rnd), true, name + " unit scales");
                }));
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> int4() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] s : SIZES) {
            for (int group : new int[] {0, 8, 32, 64, 128}) {
                if (group >= s[2]) continue;
                boolean asym = (s[0] + group) % 2 == 0;
                String name = "W4A8 m=" + s[0] + " n=" + s[1] + " k=" + s[2]
                        + (group == 0 ? " per channel" : " group " + group) + (asym ? " asymmetric" : " symmetric");
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Random rnd = new Random(name.hashCode());
                    Operands o = operands(s[0], s[1], s[2], false, !asym, rnd);
                    compare(o, int4Weight(s[1], s[2], group, asym, false, rnd), false, name);
                    Operands unit = operands(s[0], s[1], s[2], true, false, rnd);
                    compare(unit, int4Weight(s[1], s[2], group, asym, true, rnd), true, name + " unit scales");
                }));
            }
        }
        return tests;
    }

    /**
     * Oracle vs every fast implementation. {@code exact}: with unit scales and no bias, each output is an integer
     * below 2^24 in magnitude (for these sizes), so the float result must equal the oracle exactly.
     */
    private static void compare(Operands o, PackedWeight w, boolean exact, String what) {
        int m = o.x.rows(), n = o.n;
        MemorySegment expected = Tensor.zeros(m, n).data();
        new ScalarIntKernels().gemm(o.x, w, o.bias, expected);
        double[] tolerance = tolerances(o, w);
        MemorySegment reference = null;
        for (IntKernels impl : Implementations.fast()) {
            MemorySegment got = Tensor.zeros(m, n).data();
            impl.gemm(o.x, w, o.bias, got);
            for (int i = 0; i < m * n; i++) {
                float e = expected.getAtIndex(Tensor.F32_LE, i), g = got.getAtIndex(Tensor.F32_LE, i);
                String at = impl.name() + " " + what + " at (" + i / n + "," + i % n + ")";
                if (exact) assertEquals(e, g, 0f, at);
                else assertEquals(e, g, tolerance[i], at);
            }
            if (reference == null) reference = got;
            else assertBitwiseEqual(reference, got, m * n, impl.name() + " vs java, " + what);
        }
    }

    /** 1e-5 of the sum of the magnitudes of the terms of each output (float rounding of scale and sums). */
    private static double[] tolerances(Operands o, PackedWeight w) {
        int m = o.x.rows(), n = o.n;
        double[] tol = new double[m * n];
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                double mag = 0;
                for (int i = 0; i < w.k(); i++) mag += Math.abs((double) o.x.dequantize(r, i) * w.dequantize(c, i));
                if (o.bias != null) mag += Math.abs(o.bias.getAtIndex(Tensor.F32_LE, c));
                tol[r * n + c] = 1e-5 * mag + 1e-30;
            }
        }
        return tol;
    }

    static void assertBitwiseEqual(MemorySegment a, MemorySegment b, int count, String what) {
        for (int i = 0; i < count; i++) {
            float x = a.getAtIndex(Tensor.F32_LE, i), y = b.getAtIndex(Tensor.F32_LE, i);
            assertTrue(x == y || (Float.isNaN(x) && Float.isNaN(y)), what + " at " + i + ": " + x + " vs " + y);
        }
    }

    /**
     * An activation applied by the GEMM (GELU-tanh in the native epilogues, or after each task's outputs) gives the
     * bits of the GEMM followed by the Java kernels' pass, on every implementation, with panel, row and k tails. The
     * scales keep most outputs within a few units of zero, where GELU bends, and some far out, where its exp clamps.
     */
    @Test
    void activationInTheGemmEqualsTheJavaPass() {
        Random rnd = new Random(13);
        JavaKernels pass = new JavaKernels();
        for (int[] s : new int[][] {{3, 17, 33}, {37, 70, 1400}, {67, 130, 1152}, {33, 49, 130}}) {
            int m = s[0], n = s[1], k = s[2];
            QuantizedActivations x = smallOutputActivations(m, k, rnd);
            MemorySegment bias = operands(1, n, 1, false, true, rnd).bias;
            List<PackedWeight> weights = List.of(int8Weight(n, k, false, false, rnd), int8Weight(n, k, true, false, rnd),
                    int4Weight(n, k, 0, true, false, rnd), int4Weight(n, k, 32, true, false, rnd));
            for (IntKernels impl : Implementations.fast()) {
                for (PackedWeight w : weights) {
                    for (Activation activation : Activation.values()) {
                        String what = impl.name() + " " + w + " " + activation + " m=" + m + " n=" + n + " k=" + k;
                        MemorySegment expected = Tensor.zeros(m, n).data(), got = Tensor.zeros(m, n).data();
                        impl.gemm(x, w, bias, expected);
                        activation.applyInPlace(pass, expected, (long) m * n);
                        impl.gemm(x, w, bias, activation, got);
                        assertBitwiseEqual(expected, got, m * n, what);
                    }
                }
            }
        }
    }

    /** Activations whose products with the test weights are of order one. */
    private static QuantizedActivations smallOutputActivations(int m, int k, Random rnd) {
        byte[] q = new byte[m * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(255) - 127);
        float[] scales = new float[m];
        for (int r = 0; r < m; r++) scales[r] = (float) (0.05 / Math.sqrt(k) * Math.exp(rnd.nextGaussian()));
        return QuantizedActivations.allocate(m, k).set(m, q, scales);
    }

    /** The thread split (columns, or rows when there are few panels) does not change any bit. */
    @Test
    void threadSplitsAgree() {
        int before = Parallel.threads();
        try {
            Random rnd = new Random(11);
            for (int[] s : new int[][] {{67, 130, 1152}, {130, 48, 1152}, {20, 200, 600}}) {
                Operands o = operands(s[0], s[1], s[2], false, true, rnd);
                PackedInt8Weight w8 = int8Weight(s[1], s[2], true, false, rnd);
                PackedInt4Weight w4 = int4Weight(s[1], s[2], 64, true, false, rnd);
                for (IntKernels impl : Implementations.fast()) {
                    for (PackedWeight w : List.<PackedWeight>of(w8, w4)) {
                        MemorySegment one = Tensor.zeros(s[0], s[1]).data(), three = Tensor.zeros(s[0], s[1]).data();
                        Parallel.setThreads(1);
                        impl.gemm(o.x, w, o.bias, one);
                        Parallel.setThreads(3);
                        impl.gemm(o.x, w, o.bias, three);
                        assertBitwiseEqual(one, three, s[0] * s[1], impl.name() + " " + w + " 1 vs 3 threads");
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void heapBuffersWork() {
        Random rnd = new Random(12);
        int m = 9, n = 50, k = 70;
        Operands o = operands(m, n, k, false, true, rnd);
        PackedInt8Weight w = int8Weight(n, k, true, false, rnd);
        MemorySegment heapBias = MemorySegment.ofArray(o.bias.toArray(ValueLayout.JAVA_FLOAT));
        for (IntKernels impl : Implementations.fast()) {
            MemorySegment offHeap = Tensor.zeros(m, n).data();
            impl.gemm(o.x, w, o.bias, offHeap);
            MemorySegment heapOut = MemorySegment.ofArray(new float[m * n]);
            impl.gemm(o.x, w, heapBias, heapOut);
            assertBitwiseEqual(offHeap, heapOut, m * n, impl.name() + " heap vs off-heap");
        }
    }

    /** Quantize then multiply approximates the float product (the whole path, with a rotation). */
    @Test
    void quantizedLinearApproximatesFloatLinear() {
        Random rnd = new Random(13);
        int m = 16, n = 40, k = 144;
        MemorySegment x = QuantizeDifferentialTest.randomActivations(m, k, rnd);
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        ActivationTransform t = ActivationTransform.of(k, null, HadamardRotation.randomized(k, 144, 9));
        float[] wt = w.clone();
        for (int c = 0; c < n; c++) t.transformWeightRow(wt, c * k);
        byte[] q = new byte[n * k];
        float[] s = new float[n];
        for (int c = 0; c < n; c++) {
            float amax = 0;
            for (int i = 0; i < k; i++) amax = Math.max(amax, Math.abs(wt[c * k + i]));
            s[c] = amax / 127;
            for (int i = 0; i < k; i++) q[c * k + i] = (byte) Math.round(wt[c * k + i] / s[c]);
        }
        PackedInt8Weight packed = PackedInt8Weight.pack(q, n, k, s, null);
        for (IntKernels impl : Implementations.fast()) {
            MemorySegment out = Tensor.zeros(m, n).data();
            impl.linear(x, m, t, QuantizedActivations.allocate(m, k), packed, null, out);
            for (int r = 0; r < m; r++) {
                double norm = 0;
                for (int i = 0; i < k; i++) norm += Math.pow(x.getAtIndex(Tensor.F32_LE, (long) r * k + i), 2);
                for (int c = 0; c < n; c++) {
                    double exact = 0;
                    for (int i = 0; i < k; i++) exact += (double) x.getAtIndex(Tensor.F32_LE, (long) r * k + i) * w[c * k + i];
                    double got = out.getAtIndex(Tensor.F32_LE, (long) r * n + c);
                    // int8 on both sides: error well below 5% of |x|·|w| (|w_c| ≈ √k)
                    assertEquals(exact, got, 0.05 * Math.sqrt(norm) * Math.sqrt(k), impl.name() + " (" + r + "," + c + ")");
                }
            }
        }
    }
}
