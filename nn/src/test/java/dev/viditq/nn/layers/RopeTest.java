package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RopeTest {
    private static final int HEADS = 2, HD = 8, DIM = HEADS * HD;

    private static Tensor rotated(float[] values, int position) {
        Tensor t = Tensor.of(values.clone(), 1, DIM);
        Rope.standard(HD).apply(t.data(), 1, DIM, 0, HEADS, HD, r -> position);
        return t;
    }

    private static double headDot(Tensor a, Tensor b, int head) {
        double s = 0;
        for (int i = head * HD; i < (head + 1) * HD; i++) s += (double) a.getFloat(i) * b.getFloat(i);
        return s;
    }

    @Test
    void scoresDependOnlyOnRelativePosition() {
        Random rnd = new Random(9);
        float[] q = new float[DIM], k = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            q[i] = (float) rnd.nextGaussian();
            k[i] = (float) rnd.nextGaussian();
        }
        for (int h = 0; h < HEADS; h++) {
            double near = headDot(rotated(q, 5), rotated(k, 2), h);
            double shifted = headDot(rotated(q, 12), rotated(k, 9), h);
            assertEquals(near, shifted, 1e-4);
            assertNotEquals(near, headDot(rotated(q, 5), rotated(k, 3), h), 1e-4);
        }
    }

    @Test
    void rotatesInterleavedPairs() {
        float[] x = new float[DIM];
        x[0] = 1; // pair (0, 1) of head 0, frequency 1: rotated by the position in radians
        Tensor t = rotated(x, 1);
        assertEquals(Math.cos(1), t.getFloat(0), 1e-6);
        assertEquals(Math.sin(1), t.getFloat(1), 1e-6);
        assertEquals(0, t.getFloat(2));
        Tensor zero = rotated(x, 0);
        assertEquals(1, zero.getFloat(0));
    }
}
