package dev.viditq.quant.lowbit;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfig.ScaleType;
import dev.viditq.quant.config.QuantConfig.WeightGranularity;
import dev.viditq.quant.runtime.QuantizedWeight;
import dev.viditq.quant.runtime.WeightGrid;
import dev.viditq.quant.runtime.WeightQuantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BF16 weight scales are exact: the quantizers round each scale to BF16 before they choose the integers, so the
 * stored scale, zero point and integers dequantize to the very values the quantizer worked with — round-to-nearest
 * picks the nearest point of the stored grid, and GPTQ spreads the error of the stored value.
 */
class Bf16ScalesTest {
    private static final OutlierLayer LAYER = OutlierLayer.of(21, 40, 200, 400, 3, 6);   // 200 inputs: groups of 64 end in a tail of 8

    private static QuantConfig.WeightSpec spec(boolean symmetric, int group, ScaleType scaleType) {
        return new QuantConfig.WeightSpec(4, symmetric, group == 0 ? WeightGranularity.CHANNEL : WeightGranularity.GROUP, group, scaleType);
    }

    @ParameterizedTest(name = "symmetric {0}, group {1}")
    @CsvSource({"false, 64", "true, 64", "false, 0", "false, 128"})
    void roundToNearestPicksTheNearestPointOfTheStoredGrid(boolean symmetric, int group) {
        QuantConfig.WeightSpec spec = spec(symmetric, group, ScaleType.BF16);
        QuantizedWeight w = WeightQuantizer.quantize(LAYER.w(), LAYER.n(), LAYER.k(), 4, spec);
        assertEquals(ScaleType.BF16, w.scaleType());
        float[] stored = storedAndReadBack(w);
        assertArrayEquals(w.scales(), stored, "the scales survive BF16 storage unchanged");
        byte[] q = w.rowMajor();
        int k = LAYER.k(), groups = w.groups();
        for (int r = 0; r < LAYER.n(); r++) {
            for (int c = 0; c < k; c++) {
                int slot = r * groups + c / w.groupSize();
                int zero = w.zeros() == null ? 0 : w.zeros()[slot] + 8;   // back to the unsigned domain
                WeightGrid grid = new WeightGrid(4, symmetric, stored[slot], zero);
                assertEquals(grid.quantize(LAYER.w()[r * k + c]), q[r * k + c], "(" + r + ", " + c + ")");
            }
        }
        // the rounding is real: some F32 scales are not BF16 numbers, and there the integers chosen differ
        QuantizedWeight f32 = WeightQuantizer.quantize(LAYER.w(), LAYER.n(), LAYER.k(), 4, spec(symmetric, group, ScaleType.F32));
        int roundedScales = 0;
        for (int i = 0; i < f32.scales().length; i++) if (ScaleType.BF16.round(f32.scales()[i]) != f32.scales()[i]) roundedScales++;
        assertTrue(roundedScales > f32.scales().length / 2, roundedScales + " of " + f32.scales().length + " F32 scales needed rounding");
        assertNotEquals(java.util.Arrays.toString(f32.rowMajor()), java.util.Arrays.toString(q), "integers against the rounded scales");
    }

    /**
     * GPTQ's own loss, ½ Σ_i (w_i − q_i)² / U_ii² over the columns as it visits them, equals ½ Σ_rows Δᵀ(H + λI)Δ for
     * Δ = W − Ŵ (U upper with (H + λI)⁻¹ = UᵀU: the updates make Uᵀe = Δ). That identity holds only if q_i, the value
     * it compensated, is the stored one — so Ŵ here is dequantized from the BF16 scales read back from storage.
     */
    @ParameterizedTest(name = "group {0}, act_order {1}")
    @CsvSource({"64, true", "64, false", "0, true", "128, true"})
    void gptqCompensatesTheErrorOfTheStoredValues(int group, boolean actOrder) {
        QuantConfig.WeightSpec spec = spec(false, group, ScaleType.BF16);
        QuantConfig.Gptq settings = new QuantConfig.Gptq(0.01, actOrder, 128);
        Gptq.Result result = Gptq.quantize(LAYER.w(), LAYER.n(), LAYER.k(), 4, spec, settings, LAYER.hessian());
        QuantizedWeight w = result.weight();
        QuantizedWeight read = new QuantizedWeight(4, w.n(), w.k(), w.groupSize(), w.values(), storedAndReadBack(w), w.zeros(), ScaleType.BF16);
        double loss = dampedLoss(read.dequantize());
        assertEquals(loss, result.proxyLoss(), 1e-9 * loss, "GPTQ's loss against the loss of the stored weights");

        // the check is sharp: one scale one BF16 step off moves the loss far beyond the tolerance
        float[] nudged = read.scales().clone();
        nudged[3] = Tensor.bf16ToFloat((short) (Tensor.floatToBf16(nudged[3]) + 1));   // the next BF16 number up
        double off = dampedLoss(new QuantizedWeight(4, w.n(), w.k(), w.groupSize(), w.values(), nudged, w.zeros(), ScaleType.BF16).dequantize());
        assertTrue(Math.abs(off - loss) > 1e-6 * loss, "a BF16 step on one scale changes the loss: " + off + " vs " + loss);

        // and the oracle, written without blocks, agrees integer for integer
        GptqTest.assertSame(GptqReference.quantize(LAYER.w(), LAYER.n(), LAYER.k(), 4, spec, settings, LAYER.hessian()), w, "oracle");
    }

    @Test
    void aScaleTheTypeCannotHoldIsRefused() {
        float notBf16 = 0.1f;   // 0x3DCCCCCD: its low 16 bits are not zero
        String m = assertThrows(IllegalArgumentException.class, () -> QuantizedWeight.fromRowMajor(4, 1, 8, 8, new byte[8],
                new float[]{notBf16}, new byte[1], ScaleType.BF16)).getMessage();
        assertTrue(m.contains("is not a BF16 value"), m);
        assertEquals(Tensor.bf16ToFloat(Tensor.floatToBf16(notBf16)), ScaleType.BF16.round(notBf16));
        assertEquals(notBf16, ScaleType.F32.round(notBf16));
    }

    /** Stored bits per weight follow the scale type: int4 values, a 16- or 32-bit scale and an 8-bit zero point per group. */
    @Test
    void storedBitsFollowTheScaleType() {
        for (ScaleType t : ScaleType.values()) {
            QuantizedWeight w = WeightQuantizer.quantize(LAYER.w(), LAYER.n(), LAYER.k(), 4, spec(false, 64, t));
            int groups = LAYER.n() * 4;   // ⌈200 / 64⌉ per row
            assertEquals((LAYER.n() * LAYER.k() + 1) / 2 + groups * (t == ScaleType.BF16 ? 2 : 4) + groups, w.storedBytes(), t.name());
            assertEquals(t.dtype(), w.scaleTensor().dtype());
            LowBitWeight lb = LowBitWeight.quantize(LAYER.w(), LAYER.n(), LAYER.k(), 4, spec(false, 64, t), null, null, null);
            assertEquals(w.storedBytes() * 8, lb.storedBits(), t.name());
        }
    }

    /** The scales as the checkpoint writes them (their stored dtype), read back and widened to F32 as the loader does. */
    private static float[] storedAndReadBack(QuantizedWeight w) {
        Tensor t = w.scaleTensor();
        assertEquals(DType.BF16, t.dtype());
        return t.toFloatArray();
    }

    /** ½ Σ_rows (W − Ŵ)ᵀ(H + λI)(W − Ŵ), λ = 0.01 · mean(diag H). */
    private static double dampedLoss(float[] approx) {
        int n = LAYER.n(), k = LAYER.k();
        double[] h = LAYER.hessian();
        double mean = 0;
        for (int j = 0; j < k; j++) mean += h[j * k + j] / k;
        double lambda = 0.01 * mean, loss = 0;
        double[] d = new double[k];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) d[j] = (double) LAYER.w()[r * k + j] - approx[r * k + j];
            for (int a = 0; a < k; a++) {
                double row = lambda * d[a];
                for (int b = 0; b < k; b++) row += h[a * k + b] * d[b];
                loss += d[a] * row / 2;
            }
        }
        return loss;
    }
}
