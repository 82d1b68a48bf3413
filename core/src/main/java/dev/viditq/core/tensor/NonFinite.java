package dev.viditq.core.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;

/**
 * Finds NaN and infinite values in float data, fast enough to run over every weight at load time: a value is not
 * finite exactly when its exponent bits are all ones, so eight bytes at a time are masked to their lanes' exponents
 * and tested for an all-ones lane with the classic "has a zero lane" bit trick (exact for "any lane", never a false
 * positive), then the one word that hit is searched element by element. {@link #firstScalar} is the oracle.
 */
public final class NonFinite {
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private NonFinite() {}

    /** Index of the first NaN or infinity in {@code t}, or -1 (always -1 for integer dtypes). */
    public static long first(Tensor t) {
        return first(t.dtype(), t.data());
    }

    /**
     * Index (in elements of {@code dtype}) of the first NaN or infinity in {@code data}, or -1; integer dtypes have
     * none. {@code data} holds whole elements.
     */
    public static long first(DType dtype, MemorySegment data) {
        Lanes lanes = Lanes.of(dtype);
        if (lanes == null) return -1;
        long words = data.byteSize() / 8;
        for (long w = 0; w < words; w++) {
            long x = (data.get(WORD, w * 8) & lanes.exponents) ^ lanes.exponents; // a zero lane: exponent all ones
            if (((x - lanes.ones) & ~x & lanes.highs) != 0) return w * lanes.perWord + firstScalar(dtype, data.asSlice(w * 8, 8));
        }
        long tailStart = words * 8;
        long tail = firstScalar(dtype, data.asSlice(tailStart));
        return tail < 0 ? -1 : tailStart / dtype.elementBytes() + tail;
    }

    /** The oracle: element by element through {@link Float#isFinite} / {@link Double#isFinite}. */
    public static long firstScalar(DType dtype, MemorySegment data) {
        if (!dtype.isFloating()) return -1;
        long n = data.byteSize() / dtype.elementBytes();
        for (long i = 0; i < n; i++) {
            boolean finite = switch (dtype) {
                case F64 -> Double.isFinite(data.get(Tensor.F64_LE, i * 8));
                case F32 -> Float.isFinite(data.get(Tensor.F32_LE, i * 4));
                case BF16 -> Float.isFinite(Float.intBitsToFloat((data.get(Tensor.I16_LE, i * 2) & 0xFFFF) << 16));
                case F16 -> Float.isFinite(Float.float16ToFloat(data.get(Tensor.I16_LE, i * 2)));
                default -> true;
            };
            if (!finite) return i;
        }
        return -1;
    }

    /** Per dtype: the exponent bits of every lane of a word, a 1 in each lane's lowest bit, each lane's top bit. */
    private record Lanes(long exponents, long ones, long highs, int perWord) {
        static Lanes of(DType dtype) {
            return switch (dtype) {
                case F64 -> new Lanes(0x7FF0000000000000L, 1L, 0x8000000000000000L, 1);
                case F32 -> new Lanes(0x7F8000007F800000L, 0x0000000100000001L, 0x8000000080000000L, 2);
                case BF16 -> new Lanes(0x7F807F807F807F80L, 0x0001000100010001L, 0x8000800080008000L, 4);
                case F16 -> new Lanes(0x7C007C007C007C00L, 0x0001000100010001L, 0x8000800080008000L, 4);
                default -> null;
            };
        }
    }
}
