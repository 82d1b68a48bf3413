package dev.viditq.quant.lowbit;

import dev.viditq.core.kernels.quant.HadamardRotation;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tᵀ·H·T from the recorded H equals the Hessian of the transformed inputs x' = (x ⊙ m)·Q taken directly. */
class HessianBasisTest {
    @Test
    void theTransformedHessianIsTheHessianOfTheTransformedInputs() {
        int k = 48, m = 90;   // 48 = 12·4: a Paley Hadamard block, not only powers of two
        OutlierLayer l = OutlierLayer.of(5, 3, k, m, 2, 0);
        SplittableRandom r = new SplittableRandom(9);
        float[] smooth = new float[k];
        for (int j = 0; j < k; j++) smooth[j] = (float) (0.2 + 3 * r.nextDouble());
        for (HadamardRotation rotation : new HadamardRotation[]{null, HadamardRotation.randomized(k, k, 3), HadamardRotation.randomized(k, 16, 4)}) {
            for (float[] s : new float[][]{null, smooth}) {
                if (s == null && rotation == null) continue;
                float[] xt = l.x().clone();
                for (int t = 0; t < m; t++) {
                    if (s != null) for (int j = 0; j < k; j++) xt[t * k + j] *= s[j];
                    if (rotation != null) rotation.rotate(xt, t * k);
                }
                double[] direct = OutlierLayer.gram(xt, m, k);
                double[] mapped = HessianBasis.transform(l.hessian(), k, s, rotation);
                double scale = 0;
                for (int j = 0; j < k; j++) scale = Math.max(scale, direct[j * k + j]);
                for (int i = 0; i < k * k; i++) assertEquals(direct[i], mapped[i], 2e-5 * scale, "entry " + i + " " + rotation);
            }
        }
    }
}
