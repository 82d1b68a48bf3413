package dev.viditq.core.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The word-at-a-time search against the element-by-element oracle: random data, odd lengths, every position. */
class NonFiniteTest {
    private static final DType[] FLOATS = {DType.F64, DType.F32, DType.BF16, DType.F16};

    @Test
    void agreesWithTheOracleOnRandomBitsAtOddLengths() {
        SplittableRandom r = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : FLOATS) {
                for (int trial = 0; trial < 400; trial++) {
                    int n = 1 + r.nextInt(67);
                    MemorySegment s = arena.allocate((long) n * dtype.elementBytes());
                    for (long b = 0; b < s.byteSize(); b++) s.set(ValueLayout.JAVA_BYTE, b, (byte) r.nextInt());
                    assertEquals(NonFinite.firstScalar(dtype, s), NonFinite.first(dtype, s), dtype + " n=" + n + " trial " + trial);
                }
            }
        }
    }

    @Test
    void findsEachSpecialValueAtEveryPositionOfAFiniteTensor() {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (DType dtype : FLOATS) {
            for (int n : new int[]{1, 3, 4, 5, 8, 13, 33}) {
                for (int at = 0; at < n; at++) {
                    for (float special : specials) {
                        Tensor t = Tensor.zeros(dtype, n);
                        for (int i = 0; i < n; i++) t.setFloat(i, (i % 7 - 3) * 65000f / 3); // large finite values too
                        assertEquals(-1, NonFinite.first(t), dtype + " n=" + n + " finite");
                        t.setFloat(at, special);
                        if (at + 1 < n) t.setFloat(n - 1, special);
                        assertEquals(at, NonFinite.first(t), dtype + " n=" + n + " " + special + " at " + at);
                    }
                }
            }
        }
        assertEquals(-1, NonFinite.first(Tensor.zeros(DType.I32, 9)), "integers have no NaN");
    }
}
