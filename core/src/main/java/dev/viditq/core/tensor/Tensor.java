package dev.viditq.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense, row-major tensor: dtype, shape and a {@link MemorySegment} holding the bytes (little-endian).
 * The segment is usually off-heap: either allocated here or a slice of a memory-mapped checkpoint, never copied.
 * {@link #getFloat(long)} / {@link #setFloat(long, float)} are the scalar path every fast kernel is tested against.
 */
public final class Tensor {
    public static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Alignment of buffers allocated here: one cache line, so vector loads never split lines at row starts. */
    public static final long ALIGNMENT = ActivationPool.ALIGNMENT;

    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;

    public Tensor(DType dtype, long[] shape, MemorySegment data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        long need = dtype.byteSize(numel(shape));
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("tensor of " + dtype + " " + Arrays.toString(shape)
                    + " needs " + need + " bytes, segment has " + data.byteSize());
        }
    }

    /**
     * A zero-filled off-heap tensor, freed by the garbage collector when unreachable. Large ones come from
     * {@link ActivationPool}, which recycles their memory instead of mapping it afresh.
     */
    public static Tensor zeros(DType dtype, long... shape) {
        return allocate(dtype, true, shape);
    }

    /**
     * An off-heap tensor as {@link #zeros}, zero-filled only when {@code zero}: a caller that overwrites every
     * element (a GEMM output) skips the pass.
     */
    public static Tensor allocate(DType dtype, boolean zero, long... shape) {
        return new Tensor(dtype, shape, ActivationPool.allocate(dtype.byteSize(numel(shape)), zero));
    }

    /** A zero-filled F32 tensor. */
    public static Tensor zeros(long... shape) {
        return zeros(DType.F32, shape);
    }

    /** An off-heap F32 copy of {@code values} with the given shape. */
    public static Tensor of(float[] values, long... shape) {
        if (numel(shape) != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        }
        Tensor t = zeros(DType.F32, shape);
        MemorySegment.copy(values, 0, t.data, F32_LE, 0, values.length);
        return t;
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() { return dtype; }
    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public MemorySegment data() { return data; }
    public long numel() { return numel(shape); }
    public long byteSize() { return data.byteSize(); }

    /** Size of dimension {@code i}; negative indices count from the end. */
    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    /** Size of dimension {@code i} as an int, for kernels that index with ints. */
    public int size(int i) {
        return Math.toIntExact(dim(i));
    }

    /** Same data, new shape (one dimension may be -1). */
    public Tensor reshape(long... newShape) {
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("two -1 in " + Arrays.toString(newShape));
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) s[infer] = known == 0 ? 0 : numel() / known;
        if (numel(s) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new Tensor(dtype, s, data);
    }

    /** Rows {@code [from, to)} of the first dimension, sharing memory. */
    public Tensor sliceRows(long from, long to) {
        long[] s = shape.clone();
        long rowElems = numel() / Math.max(1, shape[0]);
        s[0] = to - from;
        return new Tensor(dtype, s, data.asSlice(dtype.byteSize(from * rowElems), dtype.byteSize((to - from) * rowElems)));
    }

    /** Element {@code i} (flat, row-major) as a float; the scalar oracle for every dtype. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32_LE, i);
            case F64 -> (float) data.getAtIndex(F64_LE, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16_LE, i));
            case BF16 -> bf16ToFloat(data.getAtIndex(I16_LE, i));
            case I64 -> data.getAtIndex(I64_LE, i);
            case I32 -> data.getAtIndex(I32_LE, i);
            case I16 -> data.getAtIndex(I16_LE, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case I4 -> int4At(data, i);
        };
    }

    /** Stores {@code v} at flat index {@code i}, rounding to the dtype (nearest-even for BF16/F16). */
    public void setFloat(long i, float v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32_LE, i, v);
            case F64 -> data.setAtIndex(F64_LE, i, v);
            case F16 -> data.setAtIndex(I16_LE, i, Float.floatToFloat16(v));
            case BF16 -> data.setAtIndex(I16_LE, i, floatToBf16(v));
            case I64 -> data.setAtIndex(I64_LE, i, (long) v);
            case I32 -> data.setAtIndex(I32_LE, i, (int) v);
            case I16 -> data.setAtIndex(I16_LE, i, (short) v);
            case I8, U8, BOOL -> data.set(ValueLayout.JAVA_BYTE, i, (byte) (int) v);
            case I4 -> {
                int q = (int) v;
                if (q < -8 || q > 7) throw new IllegalArgumentException("int4 value out of range: " + v);
                long b = i >>> 1;
                int old = data.get(ValueLayout.JAVA_BYTE, b);
                int nib = q & 0xF;
                int now = (i & 1) == 0 ? (old & 0xF0) | nib : (old & 0x0F) | (nib << 4);
                data.set(ValueLayout.JAVA_BYTE, b, (byte) now);
            }
        }
    }

    /** Element {@code i} as a long, exact for integer dtypes (token ids, labels). */
    public long getLong(long i) {
        return switch (dtype) {
            case I64 -> data.getAtIndex(I64_LE, i);
            case I32 -> data.getAtIndex(I32_LE, i);
            default -> (long) getFloat(i);
        };
    }

    /** All elements as a float array (copy). */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, n);
        } else {
            for (int i = 0; i < n; i++) out[i] = getFloat(i);
        }
        return out;
    }

    /** This tensor as F32: itself when already F32, otherwise an off-heap converted copy. */
    public Tensor toF32() {
        if (dtype == DType.F32) return this;
        return of(toFloatArray(), shape);
    }

    /** An off-heap copy with the same dtype and shape. */
    public Tensor copy() {
        Tensor t = zeros(dtype, shape);
        t.data.copyFrom(data);
        return t;
    }

    /** A copy converted to {@code target}, element by element (rounding to nearest-even). */
    public Tensor to(DType target) {
        if (target == dtype) return copy();
        Tensor t = zeros(target, shape);
        long n = numel();
        for (long i = 0; i < n; i++) t.setFloat(i, getFloat(i));
        return t;
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even float → bfloat16, NaN kept quiet. */
    public static short floatToBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private static int int4At(MemorySegment seg, long i) {
        int b = seg.get(ValueLayout.JAVA_BYTE, i >>> 1);
        int nib = (i & 1) == 0 ? b & 0xF : (b >> 4) & 0xF;
        return (nib << 28) >> 28;
    }
}
