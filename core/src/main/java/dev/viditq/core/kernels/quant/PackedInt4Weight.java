package dev.viditq.core.kernels.quant;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * int4 weights: W[r][c] = scale[r][g] · (q[r][c] − zero[r][g]) with q, zero in [-8, 7] and g = c / groupSize.
 * One group spanning all of k is per-output-channel quantization (ViDiT-Q's scheme); smaller groups (a multiple
 * of 8: 32, 64, 128, ...) give per-group scales, the last group may be partial. Packed once into the panel
 * layout of the kernels (u4 = q + 8, two per byte; see {@link PackedLayout}). Immutable.
 */
public final class PackedInt4Weight implements PackedWeight {
    private final int n, k, kpad, npad, groupSize, groups;
    private final MemorySegment packed;   // npad × kpad / 2 bytes
    private final MemorySegment scales;   // F32 [groups][npad]
    private final MemorySegment zeros;    // I32 [groups][npad], unsigned domain (zero + 8)

    private PackedInt4Weight(int n, int k, int groupSize) {
        this.n = n;
        this.k = k;
        this.kpad = PackedLayout.kpad4(k);
        this.npad = PackedLayout.npad(n);
        if (groupSize <= 0 || groupSize >= k) {
            this.groupSize = k;
            this.groups = 1;
        } else {
            if (groupSize % 8 != 0) {
                throw new IllegalArgumentException("int4 group size must be a multiple of 8 (or >= k for per-channel), got " + groupSize);
            }
            this.groupSize = groupSize;
            this.groups = Math.ceilDiv(k, groupSize);
        }
        Arena arena = Arena.ofAuto();
        this.packed = arena.allocate((long) npad * kpad / 2, Tensor.ALIGNMENT);
        this.scales = arena.allocate((long) groups * npad * Float.BYTES, Tensor.ALIGNMENT);
        this.zeros = arena.allocate((long) groups * npad * Integer.BYTES, Tensor.ALIGNMENT);
    }

    /** The number of groups a row of k values has for a group size (0 or >= k: one). */
    public static int groupCount(int k, int groupSize) {
        return groupSize <= 0 || groupSize >= k ? 1 : Math.ceilDiv(k, groupSize);
    }

    /**
     * Packs an int4 tensor [n, k]: I4 (packed, low nibble first) or I8 holding values in [-8, 7].
     * {@code scales} and {@code zeroPoints} (null: symmetric) are [n][groups], row-major.
     */
    public static PackedInt4Weight pack(Tensor q, int groupSize, float[] scales, int[] zeroPoints) {
        if ((q.dtype() != DType.I8 && q.dtype() != DType.I4) || q.rank() != 2) {
            throw new IllegalArgumentException("int4 weights must be an I4 or I8 tensor [n, k], got " + q.dtype() + " " + Arrays.toString(q.shape()));
        }
        int n = q.size(0), k = q.size(1);
        byte[] values = new byte[n * k];
        if (q.dtype() == DType.I8) {
            MemorySegment.copy(q.data(), ValueLayout.JAVA_BYTE, 0, values, 0, values.length);
        } else {
            for (int i = 0; i < values.length; i++) {
                int b = q.data().get(ValueLayout.JAVA_BYTE, i / 2);
                values[i] = (byte) ((i % 2 == 0 ? b << 28 : b << 24) >> 28);   // sign-extend the nibble
            }
        }
        return pack(values, n, k, groupSize, scales, zeroPoints);
    }

    /** Packs row-major values q[r·k + c] in [-8, 7]. */
    public static PackedInt4Weight pack(byte[] q, int n, int k, int groupSize, float[] scales, int[] zeroPoints) {
        if (n < 1 || k < 1 || (long) n * k != q.length) {
            throw new IllegalArgumentException(q.length + " weight values do not make a [" + n + ", " + k + "] matrix");
        }
        return pack(i -> q[(int) i], n, k, groupSize, scales, zeroPoints);
    }

    /**
     * Packs row-major values stored as I4 (two per byte, low nibble first, as checkpoints hold them) read straight
     * from a segment (e.g. a memory-mapped tensor), without a heap copy; the segment is read, not kept.
     */
    public static PackedInt4Weight packNibbles(MemorySegment q, int n, int k, int groupSize, float[] scales, int[] zeroPoints) {
        if (n < 1 || k < 1 || q.byteSize() != ((long) n * k + 1) / 2) {
            throw new IllegalArgumentException(q.byteSize() + " bytes of int4 values do not make a [" + n + ", " + k + "] matrix");
        }
        return pack(i -> {
            int b = q.get(ValueLayout.JAVA_BYTE, i >>> 1);
            return (i & 1) == 0 ? (b << 28) >> 28 : (b << 24) >> 28;   // sign-extend the nibble
        }, n, k, groupSize, scales, zeroPoints);
    }

    /** The value at row-major index i. */
    private interface Values {
        int at(long i);
    }

    private static PackedInt4Weight pack(Values q, int n, int k, int groupSize, float[] scales, int[] zeroPoints) {
        PackedInt4Weight w = new PackedInt4Weight(n, k, groupSize);
        int expected = n * w.groups;
        if (scales.length != expected) throw new IllegalArgumentException(scales.length + " scales, expected " + n + "×" + w.groups);
        if (zeroPoints != null && zeroPoints.length != expected) {
            throw new IllegalArgumentException(zeroPoints.length + " zero points, expected " + n + "×" + w.groups);
        }
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < w.groups; g++) {
                int zero = zeroPoints == null ? 0 : zeroPoints[r * w.groups + g];
                float scale = scales[r * w.groups + g];
                if (zero < -8 || zero > 7) throw new IllegalArgumentException("zero point " + zero + " of channel " + r + " outside [-8, 7]");
                if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale of channel " + r + " is " + scale);
                w.scales.setAtIndex(Tensor.F32_LE, (long) g * w.npad + r, scale);
                w.zeros.setAtIndex(Tensor.I32_LE, (long) g * w.npad + r, zero + 8);
            }
            for (int c = 0; c < k; c++) {
                int v = q.at((long) r * k + c);
                if (v < -8 || v > 7) throw new IllegalArgumentException("int4 weight " + v + " at (" + r + ", " + c + ") outside [-8, 7]");
                long off = PackedLayout.offset4(r, c, w.kpad);
                int old = w.packed.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
                int u = v + 8;
                int now = PackedLayout.highNibble4(c) ? (old & 0x0F) | (u << 4) : (old & 0xF0) | u;
                w.packed.set(ValueLayout.JAVA_BYTE, off, (byte) now);
            }
        }
        return w;
    }

    @Override public int n() { return n; }
    @Override public int k() { return k; }
    @Override public int bits() { return 4; }
    /** k values per group (k for per-channel). */
    public int groupSize() { return groupSize; }
    public int groups() { return groups; }

    @Override
    public long byteSize() {
        return packed.byteSize() + scales.byteSize() + zeros.byteSize();
    }

    /** The stored integer q[row][col] in [-8, 7]. */
    public int q(int row, int col) {
        checkIndex(row, col);
        int b = packed.get(ValueLayout.JAVA_BYTE, PackedLayout.offset4(row, col, kpad)) & 0xFF;
        return (PackedLayout.highNibble4(col) ? b >>> 4 : b & 0x0F) - 8;
    }

    public float scale(int row, int group) {
        checkGroup(row, group);
        return scales.getAtIndex(Tensor.F32_LE, (long) group * npad + row);
    }

    public int zeroPoint(int row, int group) {
        checkGroup(row, group);
        return zeros.getAtIndex(Tensor.I32_LE, (long) group * npad + row) - 8;
    }

    @Override
    public byte[] values() {
        byte[] v = new byte[n * k];
        for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) v[r * k + c] = (byte) q(r, c);
        return v;
    }

    @Override
    public float dequantize(int row, int col) {
        int g = col / groupSize;
        return scale(row, g) * (q(row, col) - zeroPoint(row, g));
    }

    private void checkIndex(int row, int col) {
        if (row < 0 || row >= n || col < 0 || col >= k) {
            throw new IndexOutOfBoundsException("(" + row + ", " + col + ") outside [" + n + ", " + k + "]");
        }
    }

    private void checkGroup(int row, int group) {
        if (row < 0 || row >= n || group < 0 || group >= groups) {
            throw new IndexOutOfBoundsException("(" + row + ", group " + group + ") outside [" + n + ", " + groups + " groups]");
        }
    }

    int kpad() { return kpad; }
    int npad() { return npad; }
    MemorySegment packedSegment() { return packed; }
    MemorySegment scaleSegment() { return scales; }
    MemorySegment zeroSegment() { return zeros; }

    @Override
    public String toString() {
        return "PackedInt4Weight[" + n + ", " + k + (groups == 1 ? ", per channel" : ", groups of " + groupSize) + "]";
    }
}
