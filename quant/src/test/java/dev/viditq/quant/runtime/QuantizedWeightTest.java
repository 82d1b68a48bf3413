package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one quantized-weight type: the same values whether made from a quantizer's row-major integers or read from the
 * stored encoding (off-heap, as a mapped checkpoint gives it), checked once, packed and dequantized alike.
 */
class QuantizedWeightTest {
    private static byte[] randomValues(int count, int bits, SplittableRandom r) {
        byte[] q = new byte[count];
        for (int i = 0; i < count; i++) q[i] = (byte) (r.nextInt(1 << bits) - (1 << (bits - 1)));
        return q;
    }

    @Test
    void rowMajorValuesSurviveTheStoredEncodingAtEveryWidth() {
        SplittableRandom r = new SplittableRandom(3);
        for (int bits = 2; bits <= 8; bits++) {
            int n = 5, k = 29, groupSize = bits <= 4 ? 8 : k, groups = Math.ceilDiv(k, groupSize); // odd n·k: a half-filled last I4 byte
            byte[] q = randomValues(n * k, bits, r);
            float[] scales = new float[n * groups];
            byte[] zeros = randomValues(n * groups, bits, r);
            for (int i = 0; i < scales.length; i++) scales[i] = (float) r.nextDouble(0, 0.1);
            QuantizedWeight w = QuantizedWeight.fromRowMajor(bits, n, k, groupSize, q.clone(), scales, zeros);
            assertEquals(bits <= 4 ? DType.I4 : DType.I8, w.values().dtype(), bits + " bits");
            assertArrayEquals(q, w.rowMajor(), bits + " bits");

            // the same bytes off-heap (as the loader maps them) make an equal weight
            Tensor stored = Tensor.zeros(w.values().dtype(), n, k);
            MemorySegment.copy(w.values().data(), 0, stored.data(), 0, stored.byteSize());
            QuantizedWeight read = new QuantizedWeight(bits, n, k, groupSize, stored, scales, zeros);
            assertArrayEquals(q, read.rowMajor());
            float[] dq = read.dequantize();
            PackedWeight packed = read.pack();
            assertEquals(bits <= 4 ? 4 : 8, packed.bits());
            for (int row = 0; row < n; row++) {
                for (int c = 0; c < k; c++) {
                    int g = row * groups + c / groupSize;
                    float expected = scales[g] * (q[row * k + c] - zeros[g]);
                    assertEquals(expected, dq[row * k + c], 0f, bits + " bits (" + row + ", " + c + ")");
                    assertEquals(expected, packed.dequantize(row, c), Math.abs(expected) * 1e-6f, bits + " bits packed (" + row + ", " + c + ")");
                }
            }
            assertEquals(w.values().byteSize() + scales.length * 4L + zeros.length, w.storedBytes());
        }
    }

    @Test
    void valuesOutsideTheBitWidthAreRefusedOnce() {
        byte[] q = new byte[4 * 8];
        q[9] = 32; // 6 bits hold [-32, 31]
        String m = assertThrows(IllegalArgumentException.class,
                () -> QuantizedWeight.fromRowMajor(6, 4, 8, 8, q, new float[4], null)).getMessage();
        assertTrue(m.contains("6-bit weight value 32 outside [-32, 31]"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> QuantizedWeight.fromRowMajor(8, 4, 8, 8, new byte[32], new float[]{1, -1, 1, 1}, null)).getMessage();
        assertTrue(m.contains("weight scale -1.0"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> QuantizedWeight.fromRowMajor(3, 4, 8, 8, new byte[32], new float[4], new byte[]{0, 4, 0, 0})).getMessage();
        assertTrue(m.contains("3-bit zero point 4 outside [-4, 3]"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> new QuantizedWeight(8, 4, 8, 8, Tensor.zeros(DType.I4, 4, 8), new float[4], null)).getMessage();
        assertTrue(m.contains("8-bit weights need I8 [4, 8]"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> QuantizedWeight.fromRowMajor(8, 4, 8, 4, new byte[32], new float[8], null)).getMessage();
        assertTrue(m.contains("per-group scales need weights of at most 4 bits"), m);
    }
}
