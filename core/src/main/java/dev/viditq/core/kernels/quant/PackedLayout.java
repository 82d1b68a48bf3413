package dev.viditq.core.kernels.quant;

/**
 * The packed weight layout shared with the C kernels (native/src/main/c/viditq.h): panels of {@link #NR}
 * output columns, each a sequence of k-steps of {@link #STEP_BYTES} bytes in which column c owns bytes
 * [4c, 4c + 4). int8: one step = 4 k values (u8 = q + 128). int4: one step = 8 k values, byte j of a column
 * holding k = j in its low nibble and k = 4 + j in its high nibble (u4 = q + 8). Padding is u = 0.
 */
final class PackedLayout {
    static final int NR = 48;
    static final int STEP_BYTES = NR * 4;

    private PackedLayout() {}

    static int npad(int n) {
        return Math.ceilDiv(n, NR) * NR;
    }

    /** k rounded up to the int8 step (4). */
    static int kpad8(int k) {
        return Math.ceilDiv(k, 4) * 4;
    }

    /** k rounded up to the int4 step (8). */
    static int kpad4(int k) {
        return Math.ceilDiv(k, 8) * 8;
    }

    /** Byte offset of W[row][col] in the int8 layout. */
    static long offset8(int row, int col, int kpad) {
        return (long) (row / NR) * NR * kpad + (long) (col / 4) * STEP_BYTES + (row % NR) * 4L + (col % 4);
    }

    /** Byte offset of W[row][col] in the int4 layout; the nibble is high when {@link #highNibble4(int)}. */
    static long offset4(int row, int col, int kpad) {
        return (long) (row / NR) * NR * (kpad / 2) + (long) (col / 8) * STEP_BYTES + (row % NR) * 4L + (col % 4);
    }

    static boolean highNibble4(int col) {
        return (col % 8) >= 4;
    }
}
