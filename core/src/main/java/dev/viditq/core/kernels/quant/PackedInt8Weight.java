package dev.viditq.core.kernels.quant;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * int8 weights, one scale and one zero point per output channel: W[r][c] = scale[r] · (q[r][c] − zero[r]),
 * q and zero in [-128, 127] (symmetric weights: zero = 0; asymmetric min/max weights as ViDiT-Q releases them:
 * zero = round(-min / scale) − 128). Packed once, at load, into the panel layout of the kernels
 * (u8 = q + 128; see {@link PackedLayout}). Immutable.
 */
public final class PackedInt8Weight implements PackedWeight {
    private final int n, k, kpad, npad;
    private final MemorySegment packed;   // u8, npad × kpad
    private final MemorySegment scales;   // F32 [npad]
    private final MemorySegment zeros;    // I32 [npad], unsigned domain (zero + 128)

    private PackedInt8Weight(int n, int k) {
        this.n = n;
        this.k = k;
        this.kpad = PackedLayout.kpad8(k);
        this.npad = PackedLayout.npad(n);
        Arena arena = Arena.ofAuto();
        this.packed = arena.allocate((long) npad * kpad, Tensor.ALIGNMENT);
        this.scales = arena.allocate((long) npad * Float.BYTES, Tensor.ALIGNMENT);
        this.zeros = arena.allocate((long) npad * Integer.BYTES, Tensor.ALIGNMENT);
    }

    /**
     * Packs an I8 tensor [n, k] with {@code scales[n]} and {@code zeroPoints[n]} (null: symmetric, all 0).
     * The tensor is read, not kept.
     */
    public static PackedInt8Weight pack(Tensor q, float[] scales, int[] zeroPoints) {
        if (q.dtype() != DType.I8 || q.rank() != 2) {
            throw new IllegalArgumentException("int8 weights must be an I8 tensor [n, k], got " + q.dtype() + " " + Arrays.toString(q.shape()));
        }
        int n = q.size(0), k = q.size(1);
        return pack(q.data(), n, k, scales, zeroPoints);
    }

    /** Packs row-major values q[r·k + c]. */
    public static PackedInt8Weight pack(byte[] q, int n, int k, float[] scales, int[] zeroPoints) {
        checkShape(q.length, n, k, scales, zeroPoints);
        return pack(MemorySegment.ofArray(q), n, k, scales, zeroPoints);
    }

    /**
     * Packs row-major I8 values q[r·k + c] read straight from a segment (e.g. a memory-mapped checkpoint tensor),
     * without a heap copy; the segment is read, not kept.
     */
    public static PackedInt8Weight pack(MemorySegment q, int n, int k, float[] scales, int[] zeroPoints) {
        if (n < 1 || k < 1 || q.byteSize() != (long) n * k) {
            throw new IllegalArgumentException(q.byteSize() + " weight values do not make a [" + n + ", " + k + "] matrix");
        }
        checkShape(n * k, n, k, scales, zeroPoints);
        PackedInt8Weight w = new PackedInt8Weight(n, k);
        for (int r = 0; r < n; r++) {
            int zero = zeroPoints == null ? 0 : zeroPoints[r];
            if (zero < -128 || zero > 127) throw new IllegalArgumentException("zero point " + zero + " of channel " + r + " outside [-128, 127]");
            if (!Float.isFinite(scales[r])) throw new IllegalArgumentException("scale of channel " + r + " is " + scales[r]);
            w.scales.setAtIndex(Tensor.F32_LE, r, scales[r]);
            w.zeros.setAtIndex(Tensor.I32_LE, r, zero + 128);
        }
        Parallel.forEach(w.npad / PackedLayout.NR, panel -> w.packPanel(q, panel));
        return w;
    }

    /**
     * The rows of one panel: a k-step's 4 values of a row are 4 consecutive source bytes and 4 consecutive packed
     * ones, so they move as one int; u8 = q + 128 flips each byte's top bit (XOR 0x80 per byte).
     */
    private void packPanel(MemorySegment q, int panel) {
        int first = panel * PackedLayout.NR, last = Math.min(n, first + PackedLayout.NR), steps = k / 4;
        for (int r = first; r < last; r++) {
            long src = (long) r * k, dst = PackedLayout.offset8(r, 0, kpad);
            for (int s = 0; s < steps; s++) {
                int four = q.get(ValueLayout.JAVA_INT_UNALIGNED, src + 4L * s) ^ 0x80808080;
                packed.set(ValueLayout.JAVA_INT_UNALIGNED, dst + (long) s * PackedLayout.STEP_BYTES, four);
            }
            for (int c = 4 * steps; c < k; c++) {
                packed.set(ValueLayout.JAVA_BYTE, PackedLayout.offset8(r, c, kpad), (byte) (q.get(ValueLayout.JAVA_BYTE, src + c) + 128));
            }
        }
    }

    static void checkShape(int values, int n, int k, float[] scales, int[] zeroPoints) {
        if (n < 1 || k < 1 || (long) n * k != values) {
            throw new IllegalArgumentException(values + " weight values do not make a [" + n + ", " + k + "] matrix");
        }
        if (scales.length != n) throw new IllegalArgumentException(scales.length + " scales for " + n + " output channels");
        if (zeroPoints != null && zeroPoints.length != n) {
            throw new IllegalArgumentException(zeroPoints.length + " zero points for " + n + " output channels");
        }
    }

    @Override public int n() { return n; }
    @Override public int k() { return k; }
    @Override public int bits() { return 8; }

    @Override
    public long byteSize() {
        return packed.byteSize() + scales.byteSize() + zeros.byteSize();
    }

    /** The stored integer q[row][col] in [-128, 127]. */
    public int q(int row, int col) {
        checkIndex(row, col);
        return (packed.get(ValueLayout.JAVA_BYTE, PackedLayout.offset8(row, col, kpad)) & 0xFF) - 128;
    }

    public float scale(int row) {
        checkIndex(row, 0);
        return scales.getAtIndex(Tensor.F32_LE, row);
    }

    public int zeroPoint(int row) {
        checkIndex(row, 0);
        return zeros.getAtIndex(Tensor.I32_LE, row) - 128;
    }

    @Override
    public byte[] values() {
        byte[] v = new byte[n * k];
        for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) v[r * k + c] = (byte) q(r, c);
        return v;
    }

    @Override
    public float dequantize(int row, int col) {
        return scale(row) * (q(row, col) - zeroPoint(row));
    }

    private void checkIndex(int row, int col) {
        if (row < 0 || row >= n || col < 0 || col >= k) {
            throw new IndexOutOfBoundsException("(" + row + ", " + col + ") outside [" + n + ", " + k + "]");
        }
    }

    int kpad() { return kpad; }
    int npad() { return npad; }
    MemorySegment packedSegment() { return packed; }
    MemorySegment scaleSegment() { return scales; }
    MemorySegment zeroSegment() { return zeros; }

    @Override
    public String toString() {
        return "PackedInt8Weight[" + n + ", " + k + "]";
    }
}
