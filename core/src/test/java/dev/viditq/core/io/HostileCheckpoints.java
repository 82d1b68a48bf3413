package dev.viditq.core.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Hostile checkpoints made on the fly: pickles whose memo shares structures (small files that expand into billions of
 * paths or elements), deep nesting, inflation bombs, oversized names. Used by the loaders' tests and by the CLI's
 * abuse suite (through the test jar), so every case exists once.
 */
public final class HostileCheckpoints {
    private HostileCheckpoints() {}

    /** A protocol-2 pickle under construction: opcodes appended in order, memo indices handed out. */
    public static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int memo;

        public Pickle() {
            op(0x80).op(2);
        }

        public Pickle op(int code) {
            out.write(code);
            return this;
        }

        public Pickle mark() { return op('('); }
        public Pickle emptyDict() { return op('}'); }
        public Pickle emptyList() { return op(']'); }
        public Pickle none() { return op('N'); }
        public Pickle setItem() { return op('s'); }
        public Pickle setItems() { return op('u'); }
        public Pickle dict() { return op('d'); }
        public Pickle list() { return op('l'); }
        public Pickle tuple1() { return op(0x85); }
        public Pickle reduce() { return op('R'); }
        public Pickle pop() { return op('0'); }

        public Pickle integer(int v) {
            op('J');
            return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        public Pickle string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            return bytes(b);
        }

        public Pickle global(String module, String name) {
            op('c');
            return bytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        /** Stores the top of the stack; returns its memo index. */
        public int put() {
            op('r');
            bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(memo).array());
            return memo++;
        }

        public Pickle get(int index) {
            op('j');
            return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(index).array());
        }

        private Pickle bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        public byte[] stop() {
            op('.');
            return out.toByteArray();
        }
    }

    /**
     * {@code levels} dicts of {@code keys} keys, every key of a level pointing at the one dict of the level below
     * (through the memo): a few hundred bytes that spell keys^levels paths to a walker that does not count shared
     * dicts once.
     */
    public static byte[] sharedDictLevels(int levels, int keys) {
        Pickle p = new Pickle();
        p.emptyDict().mark();
        for (int k = 0; k < keys; k++) p.string("k" + k).integer(k);
        p.setItems();
        int below = p.put();
        for (int level = 1; level < levels; level++) {
            p.emptyDict().mark();
            for (int k = 0; k < keys; k++) p.string("k" + k).get(below);
            p.setItems();
            below = p.put();
        }
        return p.stop();
    }

    /** Dicts nested {@code depth} deep: {'a': {'a': ... {}}}, built without recursion by MARKs. */
    public static byte[] nestedDicts(int depth) {
        Pickle p = new Pickle();
        for (int i = 0; i < depth; i++) p.mark().string("a");
        p.emptyDict();
        for (int i = 0; i < depth; i++) p.dict();
        return p.stop();
    }

    /** Lists nested {@code depth} deep inside a dict: {'a': [[[...]]]}. */
    public static byte[] nestedLists(int depth) {
        Pickle p = new Pickle();
        p.emptyDict().string("a");
        for (int i = 0; i < depth; i++) p.mark();
        p.emptyList();
        for (int i = 0; i < depth; i++) p.list();
        return p.setItem().stop();
    }

    /**
     * A memoized list of {@code size} ints handed to {@code set()} {@code calls} times: each call copies the list,
     * so a pickle of ~(5·size + 12·calls) bytes asks for size·calls elements.
     */
    public static byte[] copiedSharedList(int size, int calls) {
        Pickle p = new Pickle();
        p.emptyDict().string("a").mark();
        for (int i = 0; i < size; i++) p.integer(i);
        p.list();
        int shared = p.put();
        p.setItem();
        for (int c = 0; c < calls; c++) p.global("builtins", "set").get(shared).tuple1().reduce().pop();
        p.emptyDict();
        return p.stop();
    }

    /** {@code count} pushes of None: a pickle that asks for a stack of {@code count} references. */
    public static byte[] pushes(int count) {
        byte[] b = new byte[count + 3];
        b[0] = (byte) 0x80;
        b[1] = 2;
        Arrays.fill(b, 2, count + 2, (byte) 'N');
        b[count + 2] = '.';
        return b;
    }

    /** A key of {@code keyLength} characters repeated (through the memo) as the key of every one of {@code levels} levels. */
    public static byte[] longKeyPath(int keyLength, int levels) {
        Pickle p = new Pickle();
        p.string("x".repeat(keyLength));
        int key = p.put();
        p.pop();
        for (int i = 0; i < levels; i++) p.mark().get(key);
        p.emptyDict();
        for (int i = 0; i < levels; i++) p.dict();
        return p.stop();
    }

    /**
     * A torch zip whose one tensor {@code w} (F32, {@code bytes} / 4 elements) has its storage deflated: a few MB that
     * ask to inflate {@code bytes} into memory (torch stores storages uncompressed; a re-compressed file may not).
     */
    public static void compressedStorage(Path file, long bytes) throws IOException {
        int numel = Math.toIntExact(bytes / 4);
        Pickle p = new Pickle();
        p.emptyDict().string("w").global("torch._utils", "_rebuild_tensor_v2").mark();
        p.mark().string("storage").global("torch", "FloatStorage").string("0").string("cpu").integer(numel).op('t').op('Q');
        p.integer(0).mark().integer(numel).op('t').mark().integer(1).op('t').op(0x89);
        p.global("collections", "OrderedDict").op(')').reduce();
        p.op('t').reduce().setItem();
        byte[] pickle = p.stop();
        CRC32 pickleCrc = new CRC32();
        pickleCrc.update(pickle);
        Path storage = file.resolveSibling(file.getFileName() + ".storage");
        inflationBomb(storage, bytes);
        // reuse the bomb's deflated stream as the storage entry's data
        byte[] zip = Files.readAllBytes(storage);
        Files.delete(storage);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int nameLength = b.getShort(26) & 0xFFFF;
        long crc = b.getInt(14) & 0xFFFFFFFFL, compressed = b.getInt(18) & 0xFFFFFFFFL;
        byte[] data = Arrays.copyOfRange(zip, 30 + nameLength, 30 + nameLength + (int) compressed);
        writeZip(file, java.util.List.of(
                new Part("archive/data.pkl", false, pickleCrc.getValue(), pickle.length, pickle.length, out -> out.write(pickle)),
                new Part("archive/data/0", true, crc, bytes, compressed, out -> out.write(data))));
    }

    /** A torch-style zip holding only {@code archive/data.pkl}, stored or deflated. */
    public static void zipWithPickle(Path file, byte[] pickle, boolean deflate) throws IOException {
        byte[] data = deflate ? deflate(pickle) : pickle;
        CRC32 crc = new CRC32();
        crc.update(pickle);
        writeZip(file, "archive/data.pkl", deflate, crc.getValue(), pickle.length, data.length, out -> out.write(data));
    }

    /**
     * A zip whose deflated {@code archive/data.pkl} inflates to {@code inflated} zero bytes (CRC and sizes true),
     * made in milliseconds: once the window is all zeros, every further megabyte deflates to the same bytes.
     */
    public static void inflationBomb(Path file, long inflated) throws IOException {
        inflationBomb(file, inflated, (byte) 0, new byte[0]);
    }

    /** Like {@link #inflationBomb(Path, long)}: {@code head}, then {@code fill} bytes up to {@code inflated}. */
    public static void inflationBomb(Path file, long inflated, byte fill, byte[] head) throws IOException {
        int chunk = 1 << 20;
        if (inflated % chunk != 0) throw new IllegalArgumentException("a whole number of MiB");
        byte[] plain = new byte[chunk];
        Arrays.fill(plain, fill);
        byte[] start = plain.clone();
        System.arraycopy(head, 0, start, 0, head.length);
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[] first = flush(d, start, Deflater.SYNC_FLUSH), second = flush(d, plain, Deflater.SYNC_FLUSH);
        byte[] repeat = flush(d, plain, Deflater.SYNC_FLUSH);
        if (!Arrays.equals(repeat, flush(d, plain, Deflater.SYNC_FLUSH))) throw new IllegalStateException("deflate not periodic");
        byte[] tail = finish(d);
        d.end();
        long chunks = inflated / chunk;
        if (chunks < 4) throw new IllegalArgumentException("at least 4 MiB");
        long compressed = first.length + second.length + (chunks - 2) * repeat.length + tail.length;
        CRC32 crc = new CRC32();
        crc.update(start);
        for (long c = 1; c < chunks; c++) crc.update(plain);
        writeZip(file, "archive/data.pkl", true, crc.getValue(), inflated, compressed, out -> {
            out.write(first);
            out.write(second);
            for (long c = 2; c < chunks; c++) out.write(repeat);
            out.write(tail);
        });
    }

    private static byte[] flush(Deflater d, byte[] input, int mode) {
        d.setInput(input);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = d.deflate(buf, 0, buf.length, mode)) > 0) out.write(buf, 0, n);
        return out.toByteArray();
    }

    private static byte[] finish(Deflater d) {
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) out.write(buf, 0, d.deflate(buf));
        return out.toByteArray();
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(data);
        byte[] out = finish(d);
        d.end();
        return out;
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** One zip entry: its data written by {@code body}, {@code compressed} bytes long. */
    private record Part(String name, boolean deflated, long crc, long size, long compressed, Body body) {}

    private static void writeZip(Path file, String name, boolean deflated, long crc, long size, long compressed, Body body)
            throws IOException {
        writeZip(file, java.util.List.of(new Part(name, deflated, crc, size, compressed, body)));
    }

    /** Local headers and data, then the central directory (sizes under 4 GiB: no zip64). */
    private static void writeZip(Path file, java.util.List<Part> parts) throws IOException {
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        long offset = 0;
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            for (Part p : parts) {
                byte[] n = p.name().getBytes(StandardCharsets.UTF_8);
                int method = p.deflated() ? 8 : 0;
                out.write(le(30 + n.length).putInt(0x04034b50).putShort((short) 20).putShort((short) 0)
                        .putShort((short) method).putInt(0).putInt((int) p.crc()).putInt((int) p.compressed()).putInt((int) p.size())
                        .putShort((short) n.length).putShort((short) 0).put(n).array());
                p.body().write(out);
                central.writeBytes(le(46 + n.length).putInt(0x02014b50).putShort((short) 20).putShort((short) 20)
                        .putShort((short) 0).putShort((short) method).putInt(0).putInt((int) p.crc()).putInt((int) p.compressed())
                        .putInt((int) p.size()).putShort((short) n.length).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) offset).put(n).array());
                offset += 30L + n.length + p.compressed();
            }
            out.write(central.toByteArray());
            out.write(le(22).putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) parts.size())
                    .putShort((short) parts.size()).putInt(central.size()).putInt((int) offset).putShort((short) 0).array());
        }
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
