package dev.viditq.core.kernels;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static dev.viditq.core.tensor.Tensor.I16_LE;

/**
 * Reads runs of weight elements (F32, BF16 or F16, in place in a possibly unaligned, memory-mapped segment) as
 * floats into a small heap buffer, and packs weight panels for {@link MicroKernel}. Weights are never widened
 * as a whole: only the run or panel being multiplied. One method per element type, so each stays a simple loop.
 */
final class WeightRows {
    private static final VectorSpecies<Float> F = MicroKernel.S;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Half-width shorts: one short vector widens to exactly one float vector. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private WeightRows() {}

    /** Throws a clear message unless {@code w} is a 2-D float weight. */
    static void checkFloatWeight(Tensor w, String what) {
        DType t = w.dtype();
        if (t != DType.F32 && t != DType.BF16 && t != DType.F16) {
            throw new IllegalArgumentException(what + " " + w + ": float kernels take F32, BF16 or F16 weights, not " + t);
        }
    }

    /** dst[at, at + count) = elements [index, index + count) of {@code w} as floats. */
    static void widen(Tensor w, long index, int count, float[] dst, int at) {
        MemorySegment s = w.data();
        switch (w.dtype()) {
            case F32 -> MemorySegment.copy(s, F32_LE, index * Float.BYTES, dst, at, count);
            case BF16 -> widenBf16(s, index * 2, count, dst, at);
            case F16 -> widenF16(s, index * 2, count, dst, at);
            default -> throw new IllegalArgumentException("not a float weight: " + w);
        }
    }

    /** BF16 is the top half of an F32: widen the short lanes to int and shift them left by 16, in registers. */
    private static void widenBf16(MemorySegment s, long byteOffset, int count, float[] dst, int at) {
        int i = 0;
        for (int bound = count - L; i <= bound; i += L) {
            ShortVector h = ShortVector.fromMemorySegment(H, s, byteOffset + 2L * i, LE);
            IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, at + i);
        }
        for (; i < count; i++) dst[at + i] = Tensor.bf16ToFloat(s.get(I16_LE, byteOffset + 2L * i));
    }

    /**
     * F16 → F32 in registers (the Vector API has no half-precision conversion): move exponent and mantissa up by
     * 13 bits and multiply by 2^112 to re-bias the exponent, which also turns F16 subnormals into exact F32
     * normals; infinities and NaNs get the all-ones F32 exponent; then the sign bit goes back on.
     */
    private static void widenF16(MemorySegment s, long byteOffset, int count, float[] dst, int at) {
        int i = 0;
        for (int bound = count - L; i <= bound; i += L) {
            ShortVector h = ShortVector.fromMemorySegment(H, s, byteOffset + 2L * i, LE);
            IntVector bits = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).and(0xFFFF);
            IntVector magnitude = bits.and(0x7FFF);
            IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
            FloatVector finite = shifted.reinterpretAsFloats().mul(0x1.0p112f);
            IntVector special = shifted.or(0x7F800000);
            IntVector abs = finite.reinterpretAsInts().blend(special, magnitude.compare(VectorOperators.GE, 0x7C00));
            IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            abs.or(sign).reinterpretAsFloats().intoArray(dst, at + i);
        }
        for (; i < count; i++) dst[at + i] = Float.float16ToFloat(s.get(I16_LE, byteOffset + 2L * i));
    }

    /**
     * Packs the transposed block w[j0 .. j0+nr, p0 .. p0+kc] as {@code panel[p·NR + c] = w[j0 + c, p0 + p]};
     * columns nr .. NR are zero. The rows are first widened side by side into {@code rows} (NR·kc floats, fast
     * vector copies), then transposed 16×16 blocks at a time in registers ({@link Transpose16}, AVX-512); the
     * rest (a k tail, or other vector sizes) is gathered one panel row at a time.
     */
    static void packPanel(Tensor w, int j0, int nr, int p0, int kc, float[] panel, float[] rows) {
        int k = w.size(1), stride = MicroKernel.NR;
        for (int c = 0; c < nr; c++) widen(w, (long) (j0 + c) * k + p0, kc, rows, c * kc);
        if (nr < stride) java.util.Arrays.fill(rows, nr * kc, stride * kc, 0f);
        int p = 0;
        if (L == 16) {
            for (; p + 16 <= kc; p += 16) {
                for (int c = 0; c < stride; c += 16) Transpose16.block(rows, c * kc + p, kc, panel, p * stride + c, stride);
            }
        }
        int[] columnStarts = columnStarts(kc);
        for (; p < kc; p++) {
            for (int c = 0; c < stride; c += L) {
                FloatVector.fromArray(F, rows, c * kc + p, columnStarts, 0).intoArray(panel, p * stride + c);
            }
        }
    }

    /** {0, kc, 2·kc, ...}: where L consecutive widened rows start, for the gather; cached per thread. */
    private static int[] columnStarts(int kc) {
        int[] starts = COLUMN_STARTS.get();
        if (starts[1] != kc) {
            for (int i = 0; i < L; i++) starts[i] = i * kc;
        }
        return starts;
    }

    private static final ThreadLocal<int[]> COLUMN_STARTS = ThreadLocal.withInitial(() -> new int[Math.max(2, L)]);
}
