package dev.viditq.nn.text;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds tokenizer files in tests: SentencePiece ModelProto bytes (protobuf wire format written by hand) and
 * precompiled charsmaps (a darts-clone double array laid out the simple way: every trie node owns a fresh block of
 * 256 units, so children never collide).
 */
final class TokenizerFixtures {
    private TokenizerFixtures() {}

    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    record Piece(String text, float score, int type) {}

    static Piece normal(String text, float score) {
        return new Piece(text, score, NORMAL);
    }

    /** A T5-like vocabulary head: pad 0, eos 1, unk 2. */
    static List<Piece> t5Specials() {
        return new ArrayList<>(List.of(new Piece("<pad>", 0, CONTROL), new Piece("</s>", 0, CONTROL), new Piece("<unk>", 0, UNKNOWN)));
    }

    /** A serialized ModelProto: Unigram, unk 2, eos 1, pad 0, no bos, the given normalizer settings. */
    static byte[] spmModel(List<Piece> pieces, byte[] charsMap, boolean addDummyPrefix) {
        Proto model = new Proto();
        for (Piece p : pieces) {
            Proto sp = new Proto().string(1, p.text()).float32(2, p.score());
            if (p.type() != NORMAL) sp.int32(3, p.type());
            model.message(1, sp);
        }
        model.message(2, new Proto().int32(3, 1).int32(4, pieces.size()).int32(40, 2).int32(41, -1).int32(42, 1).int32(43, 0)
                .string(7, "text")); // an unknown-to-us field, to be skipped
        Proto normalizer = new Proto().string(1, "test");
        if (charsMap != null) normalizer.bytes(2, charsMap);
        normalizer.int32(3, addDummyPrefix ? 1 : 0).int32(4, 1).int32(5, 1);
        model.message(3, normalizer);
        return model.toBytes();
    }

    /** Minimal protobuf writer. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto int32(int field, int v) {
            tag(field, 0);
            varint(v); // negative values are sign-extended to ten bytes, as protobuf does for int32
            return this;
        }

        Proto float32(int field, float v) {
            tag(field, 5);
            int bits = Float.floatToIntBits(v);
            for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto bytes(int field, byte[] b) {
            tag(field, 2);
            varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.toBytes());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wire) {
            varint((long) field << 3 | wire);
        }

        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }
    }

    /** A precompiled charsmap blob for {@code rules} (source → replacement). */
    static byte[] charsMap(Map<String, String> rules) {
        ByteArrayOutputStream replacements = new ByteArrayOutputStream();
        Node root = new Node();
        for (Map.Entry<String, String> r : rules.entrySet()) {
            int offset = replacements.size();
            replacements.writeBytes(r.getValue().getBytes(StandardCharsets.UTF_8));
            replacements.write(0);
            Node n = root;
            for (byte b : r.getKey().getBytes(StandardCharsets.UTF_8)) n = n.children.computeIfAbsent(b & 0xFF, k -> new Node());
            n.value = offset;
        }
        List<Integer> units = new ArrayList<>();
        units.add(0);
        layout(root, 0, units);
        ByteBuffer bb = ByteBuffer.allocate(4 + 4 * units.size() + replacements.size()).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(4 * units.size());
        for (int u : units) bb.putInt(u);
        bb.put(replacements.toByteArray());
        return bb.array();
    }

    private static final class Node {
        final TreeMap<Integer, Node> children = new TreeMap<>();
        int value = -1;
    }

    /** Gives {@code node} (whose unit is at {@code pos}) a fresh block for its children and leaf value. */
    private static void layout(Node node, int pos, List<Integer> units) {
        int base = units.size();
        for (int i = 0; i < 256; i++) units.add(0);
        int offset = pos ^ base;
        if (offset >= 1 << 21) throw new IllegalStateException("test trie too large");
        int unit = units.get(pos) | offset << 10;
        if (node.value >= 0) {
            unit |= 1 << 8;                       // has leaf
            units.set(base, node.value | 1 << 31); // leaf unit at label 0
        }
        units.set(pos, unit);
        for (Map.Entry<Integer, Node> c : node.children.entrySet()) {
            int childPos = base ^ c.getKey();
            units.set(childPos, c.getKey());
            layout(c.getValue(), childPos, units);
        }
    }
}
