package dev.viditq.core.kernels.quant;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackedWeightTest {
    /** Shapes with partial and whole panels (48 rows), k with and without a tail past the 4-value steps. */
    @Test
    void int8GettersReturnWhatWasPacked() {
        for (int[] shape : new int[][]{{50, 37}, {96, 64}, {1, 3}, {49, 1154}}) int8Case(shape[0], shape[1]);
    }

    private static void int8Case(int n, int k) {
        Random rnd = new Random(1);
        byte[] q = new byte[n * k];
        rnd.nextBytes(q);
        float[] s = new float[n];
        int[] z = new int[n];
        for (int c = 0; c < n; c++) { s[c] = rnd.nextFloat(); z[c] = rnd.nextInt(256) - 128; }
        Tensor t = new Tensor(DType.I8, new long[] {n, k}, Tensor.zeros(DType.I8, n, k).data());
        t.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(q));
        PackedInt8Weight w = PackedInt8Weight.pack(t, s, z);
        for (int r = 0; r < n; r++) {
            assertEquals(s[r], w.scale(r));
            assertEquals(z[r], w.zeroPoint(r));
            for (int c = 0; c < k; c++) {
                assertEquals(q[r * k + c], w.q(r, c), "(" + r + "," + c + ")");
                assertEquals(s[r] * (q[r * k + c] - z[r]), w.dequantize(r, c));
            }
        }
        assertArrayEquals(q, w.values());
        assertEquals(8, w.bits());
        assertTrue(w.byteSize() >= (long) n * k);
        // every byte the values do not own is padding, u = 0
        java.util.BitSet owned = new java.util.BitSet();
        for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) owned.set((int) PackedLayout.offset8(r, c, w.kpad()));
        java.lang.foreign.MemorySegment packed = w.packedSegment();
        for (int i = 0; i < packed.byteSize(); i++) {
            if (!owned.get(i)) assertEquals(0, packed.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "padding byte " + i + " of " + n + " x " + k);
        }
    }

    @Test
    void int4GettersReturnWhatWasPackedFromI8AndI4Tensors() {
        Random rnd = new Random(2);
        int n = 49, k = 100, group = 32, groups = 4;
        byte[] q = new byte[n * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(16) - 8);
        float[] s = new float[n * groups];
        int[] z = new int[n * groups];
        for (int i = 0; i < s.length; i++) { s[i] = rnd.nextFloat(); z[i] = rnd.nextInt(16) - 8; }
        Tensor i8 = Tensor.zeros(DType.I8, n, k);
        i8.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(q));
        Tensor i4 = Tensor.zeros(DType.I4, n, k);
        for (int i = 0; i < q.length; i++) {   // two per byte, low nibble first
            int b = i4.data().get(ValueLayout.JAVA_BYTE, i / 2);
            int nib = q[i] & 0x0F;
            b = i % 2 == 0 ? (b & 0xF0) | nib : (b & 0x0F) | (nib << 4);
            i4.data().set(ValueLayout.JAVA_BYTE, i / 2, (byte) b);
        }
        for (Tensor t : new Tensor[] {i8, i4}) {
            PackedInt4Weight w = PackedInt4Weight.pack(t, group, s, z);
            assertEquals(groups, w.groups());
            assertArrayEquals(q, w.values());
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < k; c++) {
                    assertEquals(q[r * k + c], w.q(r, c), t.dtype() + " (" + r + "," + c + ")");
                    int g = c / group;
                    assertEquals(s[r * groups + g] * (q[r * k + c] - z[r * groups + g]), w.dequantize(r, c));
                }
            }
        }
    }

    @Test
    void badInputsAreRejectedWithTheReason() {
        float[] s = {1f, 1f};
        assertThrows(IllegalArgumentException.class, () -> PackedInt8Weight.pack(new byte[5], 2, 3, s, null));
        assertThrows(IllegalArgumentException.class, () -> PackedInt8Weight.pack(new byte[6], 2, 3, new float[1], null));
        assertThrows(IllegalArgumentException.class, () -> PackedInt8Weight.pack(new byte[6], 2, 3, s, new int[] {0, 200}));
        assertThrows(IllegalArgumentException.class, () -> PackedInt8Weight.pack(new byte[6], 2, 3, new float[] {1f, Float.NaN}, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PackedInt4Weight.pack(new byte[] {0, 9}, 1, 2, 0, new float[] {1f}, null));
        assertTrue(e.getMessage().contains("outside [-8, 7]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PackedInt4Weight.pack(new byte[64], 1, 64, 12, new float[6], null));
        assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PackedInt4Weight.pack(new byte[64], 1, 64, 16, new float[3], null));
    }

    @Test
    void mismatchedShapesFailBeforeAnyKernelRuns() {
        QuantizedActivations x = QuantizedActivations.allocate(4, 10).set(2, new byte[20], new float[2]);
        PackedInt8Weight w = PackedInt8Weight.pack(new byte[12], 1, 12, new float[] {1f}, null);
        for (IntKernels impl : Implementations.fast()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> impl.gemm(x, w, null, Tensor.zeros(2, 1).data()));
            assertTrue(e.getMessage().contains("k=10"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> impl.quantize(Tensor.zeros(5, 10).data(), 5, 10, null, x), "5 rows in a buffer of 4");
        }
    }
}
