package dev.viditq.nn.text;

import java.nio.charset.StandardCharsets;

/**
 * Reads the protobuf wire format, enough for SentencePiece's ModelProto (a few scalar, string and nested-message
 * fields); unknown fields are skipped, so newer model files still load. Malformed input throws
 * {@link IllegalArgumentException}, which the caller turns into a message naming the file.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

    private final byte[] buf;
    private int pos;
    private final int limit;
    private int tag;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int from, int to) {
        this.buf = buf;
        this.pos = from;
        this.limit = to;
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (pos >= limit) return false;
        long t = readVarint();
        if (t >>> 3 == 0 || t >>> 3 > Integer.MAX_VALUE) throw new IllegalArgumentException("invalid field tag " + t + " at byte " + pos);
        tag = (int) t;
        return true;
    }

    int field() {
        return tag >>> 3;
    }

    int wireType() {
        return tag & 7;
    }

    long varint() {
        expect(VARINT);
        return readVarint();
    }

    int int32() {
        return (int) varint(); // negative int32 values are sign-extended to 64 bits on the wire
    }

    boolean bool() {
        return varint() != 0;
    }

    float float32() {
        expect(FIXED32);
        need(4);
        int bits = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    byte[] bytes() {
        expect(LENGTH_DELIMITED);
        int len = length();
        byte[] out = new byte[len];
        System.arraycopy(buf, pos, out, 0, len);
        pos += len;
        return out;
    }

    String string() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** The nested message of the current field, read by its own reader. */
    ProtoReader message() {
        expect(LENGTH_DELIMITED);
        int len = length();
        ProtoReader r = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return r;
    }

    /** Skips the value of the current field. */
    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> { need(8); pos += 8; }
            case LENGTH_DELIMITED -> { int len = length(); pos += len; }
            case FIXED32 -> { need(4); pos += 4; }
            default -> throw new IllegalArgumentException("unsupported wire type " + wireType() + " of field " + field());
        }
    }

    private int length() {
        long len = readVarint();
        if (len < 0 || len > limit - pos) {
            throw new IllegalArgumentException("field " + field() + " claims " + len + " bytes, " + (limit - pos) + " remain");
        }
        return (int) len;
    }

    private long readVarint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            need(1);
            int b = buf[pos++] & 0xFF;
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw new IllegalArgumentException("varint longer than 10 bytes at byte " + pos);
    }

    private void expect(int wire) {
        if (wireType() != wire) {
            throw new IllegalArgumentException("field " + field() + " has wire type " + wireType() + ", expected " + wire);
        }
    }

    private void need(int n) {
        if (limit - pos < n) throw new IllegalArgumentException("truncated message: needs " + n + " more bytes at byte " + pos);
    }
}
