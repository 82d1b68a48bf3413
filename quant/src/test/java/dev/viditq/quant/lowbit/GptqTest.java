package dev.viditq.quant.lowbit;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfig.WeightGranularity;
import dev.viditq.quant.runtime.QuantizedWeight;
import dev.viditq.quant.runtime.WeightQuantizer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GPTQ against its scalar oracle, against round-to-nearest, and on a layer with planted outliers. */
class GptqTest {
    private static final QuantConfig.WeightSpec CHANNEL = new QuantConfig.WeightSpec(4, false, WeightGranularity.CHANNEL, 0);
    private static final QuantConfig.WeightSpec CHANNEL_SYM = new QuantConfig.WeightSpec(4, true, WeightGranularity.CHANNEL, 0);
    private static final QuantConfig.WeightSpec G32 = new QuantConfig.WeightSpec(4, false, WeightGranularity.GROUP, 32);
    private static final QuantConfig.Gptq DEFAULT = new QuantConfig.Gptq(0.01, false, 128);

    @Test
    void withAnIdentityHessianItIsRoundToNearest() {
        OutlierLayer l = OutlierLayer.of(1, 37, 100, 8, 3, 5);
        double[] identity = new double[l.k() * l.k()];
        for (int j = 0; j < l.k(); j++) identity[j * l.k() + j] = 1;
        for (QuantConfig.WeightSpec spec : List.of(CHANNEL, CHANNEL_SYM, G32)) {
            for (boolean actOrder : new boolean[]{false, true}) {
                QuantizedWeight gptq = Gptq.quantize(l.w(), l.n(), l.k(), 4, spec, new QuantConfig.Gptq(0.01, actOrder, 16), identity).weight();
                assertSame(WeightQuantizer.quantize(l.w(), l.n(), l.k(), 4, spec), gptq, spec + " act_order " + actOrder);
            }
        }
    }

    @Test
    void matchesTheScalarReference() {
        OutlierLayer l = OutlierLayer.of(2, 37, 100, 300, 3, 5);
        double[] h = l.hessian().clone();
        // a dead input: never fires, so its weights must come out 0 and its H_jj is set to 1
        for (int j = 0; j < l.k(); j++) { h[5 * l.k() + j] = 0; h[j * l.k() + 5] = 0; }
        for (QuantConfig.WeightSpec spec : List.of(CHANNEL, CHANNEL_SYM, G32, new QuantConfig.WeightSpec(3, false, WeightGranularity.GROUP, 24))) {
            for (boolean actOrder : new boolean[]{false, true}) {
                for (int block : new int[]{1, 7, 32, 128, 1000}) {
                    QuantConfig.Gptq s = new QuantConfig.Gptq(0.01, actOrder, block);
                    QuantizedWeight fast = Gptq.quantize(l.w(), l.n(), l.k(), spec.bits(), spec, s, h).weight();
                    QuantizedWeight oracle = GptqReference.quantize(l.w(), l.n(), l.k(), spec.bits(), spec, s, h);
                    assertSame(oracle, fast, spec + " act_order " + actOrder + " block " + block);
                    for (int r = 0; r < l.n(); r++) assertEquals(0f, fast.dequantize()[r * l.k() + 5], "dead input weight");
                }
            }
        }
    }

    @Test
    void theFactorIsTheUpperCholeskyOfTheDampedInverse() {
        OutlierLayer l = OutlierLayer.of(3, 5, 23, 40, 2, 0);
        int k = l.k();
        double[] u = Gptq.upperCholeskyOfInverse(l.hessian(), k, 0.01);
        double[][] hp = new double[k][k];
        double mean = 0;
        for (int j = 0; j < k; j++) mean += l.hessian()[j * k + j] / k;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) hp[i][j] = l.hessian()[i * k + j] + (i == j ? 0.01 * mean : 0);
        double[][] ref = GptqReference.transpose(GptqReference.cholesky(GptqReference.inverse(hp)));
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) assertEquals(ref[i][j], u[i * k + j], 1e-9 * Math.abs(ref[i][i]), "U[" + i + "][" + j + "]");
        }
    }

    @Test
    void theResultDoesNotDependOnTheThreadCount() {
        OutlierLayer l = OutlierLayer.of(4, 70, 64, 200, 3, 5);
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(1);
            QuantizedWeight one = Gptq.quantize(l.w(), l.n(), l.k(), 4, G32, DEFAULT, l.hessian()).weight();
            Parallel.setThreads(3);
            QuantizedWeight three = Gptq.quantize(l.w(), l.n(), l.k(), 4, G32, DEFAULT, l.hessian()).weight();
            assertSame(one, three, "1 vs 3 threads");
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void anIndefiniteHessianIsRefusedNamingTheKnob() {
        int k = 4;
        double[] h = new double[k * k];
        for (int j = 0; j < k; j++) h[j * k + j] = j == 2 ? -5 : 1;
        String m = assertThrows(IllegalArgumentException.class,
                () -> Gptq.quantize(new float[2 * k], 2, k, 4, CHANNEL, DEFAULT, h)).getMessage();
        assertTrue(m.contains("raise gptq.damp"), m);
        assertThrows(IllegalArgumentException.class, () -> Gptq.quantize(new float[2 * k], 2, k, 4,
                new QuantConfig.WeightSpec(4, false, WeightGranularity.TENSOR, 0), DEFAULT, h));
    }

    static void assertSame(QuantizedWeight expected, QuantizedWeight actual, String what) {
        assertEquals(expected.groupSize(), actual.groupSize(), what + ": group size");
        assertArrayEquals(expected.scales(), actual.scales(), what + ": scales");
        assertArrayEquals(expected.zeros(), actual.zeros(), what + ": zero points");
        assertArrayEquals(expected.rowMajor(), actual.rowMajor(), what + ": integers");
    }
}
