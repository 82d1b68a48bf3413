package dev.viditq.core.kernels.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HadamardTest {
    private static final int[] SUPPORTED = {1, 2, 4, 8, 12, 16, 20, 24, 28, 36, 40, 44, 48, 56, 60, 72, 76, 96, 144, 288};

    @Test
    void matricesAreHadamard() {
        for (int n : SUPPORTED) {
            float[] h = Hadamard.dense(n);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    float e = h[i * n + j];
                    assertTrue(e == 1f || e == -1f, "order " + n + ": entry (" + i + "," + j + ") = " + e);
                    long dot = 0;
                    for (int c = 0; c < n; c++) dot += (long) h[i * n + c] * (long) h[j * n + c];
                    assertEquals(i == j ? n : 0, dot, "order " + n + ": rows " + i + " and " + j);
                }
            }
        }
    }

    @Test
    void factorizationsPreferTheFastTransform() {
        assertEquals(new Hadamard.Order(1152, 36, 32), Hadamard.order(1152));
        assertEquals(new Hadamard.Order(144, 36, 4), Hadamard.order(144));
        assertEquals(new Hadamard.Order(768, 12, 64), Hadamard.order(768));
        assertEquals(new Hadamard.Order(128, 1, 128), Hadamard.order(128));
        assertEquals(new Hadamard.Order(5120, 20, 256), Hadamard.order(5120));
    }

    @Test
    void unsupportedOrdersFailWithAClearMessage() {
        for (int n : new int[] {3, 6, 10, 18, 92, 0}) {
            assertFalse(Hadamard.isSupported(n), "order " + n);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Hadamard.order(n));
            assertTrue(e.getMessage().contains("order " + n) && e.getMessage().contains("supported"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> HadamardRotation.plain(100, 12), "12 does not divide 100");
    }

    /** The fast transform (FWHT per sub-vector + dense H_m mixing) equals the dense matrix product. */
    @Test
    void fastTransformEqualsDenseProduct() {
        Random rnd = new Random(1);
        for (int b : new int[] {1, 2, 8, 12, 16, 20, 32, 36, 40, 72, 96, 128, 144, 1152}) {
            HadamardRotation rot = HadamardRotation.randomized(b * 2, b, 7);
            float[] x = new float[2 * b];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] fast = x.clone();
            rot.rotate(fast, 0);
            float[] h = Hadamard.dense(b);
            for (int o = 0; o < 2 * b; o += b) {
                for (int j = 0; j < b; j++) {
                    double s = 0;
                    for (int i = 0; i < b; i++) s += (double) x[o + i] * rot.sign(o + i) * h[i * b + j];
                    s /= Math.sqrt(b);
                    assertEquals(s, fast[o + j], 1e-5 * Math.sqrt(b), "block " + b + " element " + (o + j));
                }
            }
        }
    }

    @Test
    void rotationPreservesDotProductsWithTransformedWeights() {
        Random rnd = new Random(2);
        int k = 96;
        float[] smooth = new float[k];
        for (int i = 0; i < k; i++) smooth[i] = 0.5f + rnd.nextFloat() * 3;
        ActivationTransform t = ActivationTransform.of(k, smooth, HadamardRotation.randomized(k, 48, 3));
        float[] x = new float[k], w = new float[k];
        for (int i = 0; i < k; i++) { x[i] = (float) rnd.nextGaussian(); w[i] = (float) rnd.nextGaussian(); }
        double plain = 0;
        for (int i = 0; i < k; i++) plain += (double) x[i] * w[i];
        float[] xt = new float[k];
        for (int i = 0; i < k; i++) xt[i] = x[i] * smooth[i];
        t.rotation().rotate(xt, 0);
        float[] wt = w.clone();
        t.transformWeightRow(wt, 0);
        double rotated = 0;
        for (int i = 0; i < k; i++) rotated += (double) xt[i] * wt[i];
        assertEquals(plain, rotated, 1e-4);
    }

    @Test
    void signsFollowTheSeed() {
        HadamardRotation a = HadamardRotation.randomized(64, 16, 42), b = HadamardRotation.randomized(64, 16, 42);
        HadamardRotation c = HadamardRotation.randomized(64, 16, 43);
        boolean differs = false;
        Random r = new Random(42);
        for (int i = 0; i < 64; i++) {
            assertEquals(a.sign(i), b.sign(i));
            assertEquals(r.nextBoolean() ? -1f : 1f, a.sign(i), "documented sign rule");
            differs |= a.sign(i) != c.sign(i);
        }
        assertTrue(differs);
        assertEquals(1f, HadamardRotation.plain(64, 16).sign(5));
    }
}
