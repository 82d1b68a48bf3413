package dev.viditq.core.tensor;

/**
 * Element types a tensor can hold. {@code I4} is packed: two signed 4-bit values per byte, low nibble first,
 * so its byte size is computed per element count, not per element.
 */
public enum DType {
    F64(8, "F64"), F32(4, "F32"), F16(2, "F16"), BF16(2, "BF16"),
    I64(8, "I64"), I32(4, "I32"), I16(2, "I16"), I8(1, "I8"), U8(1, "U8"), BOOL(1, "BOOL"),
    /** Packed signed int4; stored in safetensors files under the non-standard name "I4". */
    I4(0, "I4");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element; 0 for the packed {@link #I4}. */
    public int elementBytes() {
        return bytes;
    }

    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Bytes needed for {@code count} elements (I4: two per byte, rounded up). */
    public long byteSize(long count) {
        return this == I4 ? (count + 1) / 2 : count * bytes;
    }

    public String safetensorsName() {
        return safetensorsName;
    }

    /** The dtype of a safetensors header name, or null when this project does not know it. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) return t;
        }
        return null;
    }
}
