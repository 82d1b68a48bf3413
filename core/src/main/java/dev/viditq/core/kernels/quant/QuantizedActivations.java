package dev.viditq.core.kernels.quant;

import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Per-token quantized activations: int8 q[rows][ldq] (symmetric, q in [-127, 127], bytes past k are zero),
 * one float scale per row (x ≈ scale · q) and the row sums of q (for asymmetric weights:
 * Σ q·(u − z) = Σ q·u − z·Σ q). Off-heap, allocated once for a maximum row count and reused: the quantizer
 * overwrites the first {@link #rows()} rows. Not thread-safe: one buffer per layer call in flight.
 */
public final class QuantizedActivations {
    /** Row stride alignment in bytes: rows start on cache lines, and the kernels may read k rounded up. */
    public static final int ROW_ALIGN = 64;

    private final int capacity;
    private final int k;
    private final int ldq;
    private final MemorySegment q;
    private final MemorySegment scales;
    private final MemorySegment rowSums;
    private MemorySegment groupSums = MemorySegment.NULL;
    private int rows;

    private QuantizedActivations(int capacity, int k) {
        if (capacity < 1 || k < 1) throw new IllegalArgumentException("need rows >= 1 and k >= 1, got " + capacity + ", " + k);
        this.capacity = capacity;
        this.k = k;
        this.ldq = Math.ceilDiv(k, ROW_ALIGN) * ROW_ALIGN;
        // pooled activation memory: device-visible when a GPU backend runs (the quantizer writes it there); callers keep
        // these buffers across calls (per layer, per thread), so no scope may take them back
        this.q = ActivationPool.unscoped(() -> ActivationPool.allocate((long) capacity * ldq, true));
        this.scales = ActivationPool.unscoped(() -> ActivationPool.allocate((long) capacity * Float.BYTES, true));
        this.rowSums = ActivationPool.unscoped(() -> ActivationPool.allocate((long) capacity * Integer.BYTES, true));
    }

    /** Room for up to {@code maxRows} tokens of {@code k} channels. */
    public static QuantizedActivations allocate(int maxRows, int k) {
        return new QuantizedActivations(maxRows, k);
    }

    /**
     * Fills rows [0, rows) from given values (tests, static quantization): q[r·k + c] and scales[r];
     * the row sums are computed.
     */
    public QuantizedActivations set(int rows, byte[] qValues, float[] scaleValues) {
        if (qValues.length != (long) rows * k || scaleValues.length != rows) {
            throw new IllegalArgumentException("expected " + rows + "×" + k + " values and " + rows + " scales");
        }
        setRows(rows);
        q.asSlice(0, (long) rows * ldq).fill((byte) 0);
        for (int r = 0; r < rows; r++) {
            int sum = 0;
            for (int c = 0; c < k; c++) {
                byte v = qValues[r * k + c];
                q.set(ValueLayout.JAVA_BYTE, (long) r * ldq + c, v);
                sum += v;
            }
            scales.setAtIndex(Tensor.F32_LE, r, scaleValues[r]);
            rowSums.setAtIndex(Tensor.I32_LE, r, sum);
        }
        return this;
    }

    public int capacity() { return capacity; }
    public int k() { return k; }
    /** Bytes from one row of q to the next. */
    public int ldq() { return ldq; }
    /** Rows written by the last quantization. */
    public int rows() { return rows; }

    public byte q(int row, int col) {
        checkIndex(row, col);
        return q.get(ValueLayout.JAVA_BYTE, (long) row * ldq + col);
    }

    public float scale(int row) {
        checkIndex(row, 0);
        return scales.getAtIndex(Tensor.F32_LE, row);
    }

    public int rowSum(int row) {
        checkIndex(row, 0);
        return rowSums.getAtIndex(Tensor.I32_LE, row);
    }

    /** The dequantized value scale · q, the scalar view of what the kernels consume. */
    public float dequantize(int row, int col) {
        return scale(row) * q(row, col);
    }

    private void checkIndex(int row, int col) {
        if (row < 0 || row >= rows || col < 0 || col >= k) {
            throw new IndexOutOfBoundsException("(" + row + ", " + col + ") outside " + rows + "×" + k);
        }
    }

    void setRows(int rows) {
        if (rows < 0 || rows > capacity) {
            throw new IllegalArgumentException(rows + " rows do not fit a buffer of " + capacity + " rows");
        }
        this.rows = rows;
    }

    MemorySegment qSegment() { return q; }
    MemorySegment scaleSegment() { return scales; }
    MemorySegment rowSumSegment() { return rowSums; }

    /** Scratch for per-group sums, [capacity][groups] int32. */
    MemorySegment groupSumScratch(int groups) {
        long need = (long) capacity * groups * Integer.BYTES;
        if (groupSums.byteSize() < need) groupSums = Arena.ofAuto().allocate(need, Tensor.ALIGNMENT);
        return groupSums;
    }
}
