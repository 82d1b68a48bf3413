package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.kernels.quant.ScalarIntKernels;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java activation quantizer (A&lt;8, static scales, the simulated path) against the integer kernels' fused
 * quantizer (the selected backend and the scalar oracle) at 8 bits: the same scales and, but for rare rounding
 * ties, the same integers.
 */
class ActivationQuantizerTest {
    @ParameterizedTest
    @ValueSource(ints = {64, 96, 100, 384, 1152})
    void matchesTheKernelQuantizer(int k) {
        Random rnd = new Random(k);
        int rows = 37;
        float[] x = new float[rows * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * (i % 7 == 0 ? 20 : 1));
        float[] smooth = new float[k];
        for (int i = 0; i < k; i++) smooth[i] = 0.5f + rnd.nextFloat();
        int block = k == 100 ? 20 : k;
        HadamardRotation rot = HadamardRotation.randomized(k, block, 3);
        Tensor xt = Tensor.of(x, rows, k);

        byte[] q = new byte[rows * k];
        float[] scales = new float[rows];
        new ActivationQuantizer(k, smooth, rot).quantize(xt.data(), rows, 8, ActivationQuantizer.DYNAMIC_TOKEN, false, q, scales);

        for (var kernels : new dev.viditq.core.kernels.quant.IntKernels[]{IntKernelBackend.get(), new ScalarIntKernels()}) {
            QuantizedActivations ref = QuantizedActivations.allocate(rows, k);
            kernels.quantize(xt.data(), rows, k, ActivationTransform.of(k, smooth, rot), ref);
            int differing = 0;
            for (int r = 0; r < rows; r++) {
                assertEquals(ref.scale(r), scales[r], 1e-5f * ref.scale(r), kernels.name() + " scale of row " + r);
                for (int c = 0; c < k; c++) {
                    int d = Math.abs(ref.q(r, c) - q[r * k + c]);
                    assertTrue(d <= 1, kernels.name() + " (" + r + ", " + c + "): " + ref.q(r, c) + " vs " + q[r * k + c]);
                    differing += d;
                }
            }
            assertTrue(differing <= rows * k / 1000 + 1, kernels.name() + ": " + differing + " of " + rows * k + " values differ by one");
        }
    }
}
