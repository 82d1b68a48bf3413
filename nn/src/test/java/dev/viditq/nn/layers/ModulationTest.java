package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Normalising and modulating in one step gives what normalising, then modulating, gives: bit for bit. */
class ModulationTest {
    private static final int BATCH = 2, TOKENS = 5, DIM = 37;

    @Test
    void normalizeAndModulateEqualsTheNormThenTheModulation() {
        Random rnd = new Random(11);
        Modulation mod = Modulation.chunks(random(rnd, BATCH, 3 * DIM), 3);
        float[] inputScale = new float[DIM];
        for (int c = 0; c < DIM; c++) inputScale[c] = 0.5f + rnd.nextFloat();
        LayerNorm plain = LayerNorm.plain(1e-6f);
        LayerNorm affine = new LayerNorm(random(rnd, DIM), random(rnd, DIM), 1e-5f);
        for (LayerNorm norm : new LayerNorm[]{plain, affine}) {
            for (float[] m : new float[][]{null, inputScale}) {
                Tensor x = random(rnd, BATCH * TOKENS, DIM);
                Tensor expected = norm.forward(x);
                mod.modulate(expected, 0, 1, m);
                Tensor actual = mod.normalizeAndModulate(norm, x, 0, 1, m);
                assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), 0f,
                        (norm.affine() ? "affine" : "plain") + " norm, input scale " + (m != null));
            }
        }
    }

    @Test
    void refusesRowsThatDoNotSplitIntoTheSamples() {
        Modulation mod = Modulation.chunks(Tensor.zeros(BATCH, 2 * DIM), 2);
        assertThrows(IllegalArgumentException.class,
                () -> mod.normalizeAndModulate(LayerNorm.plain(1e-6f), Tensor.zeros(2 * TOKENS + 1, DIM), 0, 1, null));
    }

    private static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (3 + rnd.nextGaussian()));
        return t;
    }
}
