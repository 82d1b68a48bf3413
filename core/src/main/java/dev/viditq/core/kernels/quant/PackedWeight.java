package dev.viditq.core.kernels.quant;

/**
 * A weight matrix [n, k] (n output channels) quantized to integers and packed for the integer GEMMs, with the
 * scalar view ({@link #dequantize(int, int)}) every fast kernel is tested against.
 */
public sealed interface PackedWeight permits PackedInt8Weight, PackedInt4Weight {
    /** Output channels. */
    int n();

    /** Input channels. */
    int k();

    /** 8 or 4. */
    int bits();

    /** Bytes held off-heap (packed values, scales, zero points). */
    long byteSize();

    /** The weight the integers stand for: scale · (q − zeroPoint). */
    float dequantize(int row, int col);

    /** The integers q[row][col], row-major [n·k] (what {@code pack} took), e.g. to write a checkpoint. */
    byte[] values();
}
