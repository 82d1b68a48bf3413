package dev.viditq.core.io;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Corrupted checkpoints (random byte flips, truncations, edited headers and pickles) must either load, with every
 * tensor readable, or fail with a {@link CheckpointException}: never another exception, never a JVM crash.
 * The seed is fixed (-Dviditq.fuzzSeed to change it) so a failure reproduces; the failing round and mutation are
 * in the message and the input is kept.
 */
class CheckpointFuzzTest {
    /** Inputs per file: few by default to keep the suite fast; a long campaign: -Dviditq.fuzzRounds=20000. */
    private static final int ROUNDS = Integer.getInteger("viditq.fuzzRounds", 100);

    @TempDir
    Path dir;

    private final Random rnd = new Random(Long.getLong("viditq.fuzzSeed", 20240601));

    @Test
    void corruptedSafetensorsLoadOrFailCleanly() throws IOException {
        byte[] original = sampleSafetensors();
        fuzz("safetensors", original, Safetensors::open, List.of(
                this::flipBytes, this::truncate, this::flipBytes, bytes -> editSafetensorsHeader(bytes, true),
                bytes -> editSafetensorsHeader(bytes, false), this::overwriteHeaderLength));
    }

    @Test
    void corruptedTorchZipsLoadOrFailCleanly() throws IOException {
        for (String name : List.of("dtypes.pth", "protocol4.pth")) {
            byte[] original = Files.readAllBytes(PthFileTest.fixture(name));
            Map<String, byte[]> entries = unzip(PthFileTest.fixture(name));
            fuzz(name, original, PthFile::open, List.of(
                    this::flipBytes, this::truncate,
                    bytes -> rezipWithPickle(entries, this::flipBytes),
                    bytes -> rezipWithPickle(entries, this::truncate),
                    bytes -> rezipWithPickle(entries, this::spliceOpcodes),
                    bytes -> rezipWithPickle(entries, this::renameGlobals)));
        }
    }

    @Test
    void corruptedLegacyTorchFilesLoadOrFailCleanly() throws IOException {
        byte[] original = Files.readAllBytes(PthFileTest.fixture("legacy.pth"));
        fuzz("legacy.pth", original, PthFile::open, List.of(
                this::flipBytes, this::truncate, this::spliceOpcodes, this::renameGlobals));
    }

    // ---- the loop ----

    private void fuzz(String what, byte[] original, Function<Path, TensorFile> open,
                      List<UnaryOperator<byte[]>> mutations) throws IOException {
        Path file = dir.resolve("fuzzed");
        int loaded = 0;
        for (int round = 0; round < ROUNDS; round++) {
            int kind = round % mutations.size();
            byte[] bytes = mutations.get(kind).apply(original.clone());
            Files.write(file, bytes);
            try (TensorFile f = open.apply(file)) {
                readEverything(f);
                loaded++;
            } catch (CheckpointException expected) {
                assertTrue(expected.getMessage().startsWith(file.toString()), expected.getMessage());
            } catch (Throwable t) {
                Path keep = Files.createDirectories(Path.of("target", "fuzz-failures")).resolve(what + "-round" + round);
                Files.write(keep, bytes);
                fail(what + " round " + round + " (mutation " + kind + ") threw " + t + "; input kept at " + keep, t);
            }
        }
        assertTrue(loaded > 0 && loaded < ROUNDS, what + ": " + loaded + " of " + ROUNDS
                + " loaded; the mutations should break some files and spare others");
    }

    private static void readEverything(TensorFile f) {
        for (String name : f.names()) {
            Tensor t = f.get(name);
            byte[] bytes = t.data().toArray(ValueLayout.JAVA_BYTE);
            assertEquals(t.dtype().byteSize(t.numel()), bytes.length, name);
            if (t.numel() > 0) t.getFloat(t.numel() - 1);
        }
        f.metadata().forEach((k, v) -> assertNotNull(v, k));
    }

    // ---- mutations ----

    private byte[] flipBytes(byte[] b) {
        if (b.length == 0) return b;
        int flips = 1 + rnd.nextInt(4);
        for (int i = 0; i < flips; i++) b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
        return b;
    }

    private byte[] truncate(byte[] b) {
        return Arrays.copyOf(b, rnd.nextInt(b.length + 1));
    }

    private byte[] overwriteHeaderLength(byte[] b) {
        long[] lengths = {0, 1, 7, b.length - 8, b.length - 7, b.length, Long.MAX_VALUE, Long.MIN_VALUE, -1, rnd.nextLong()};
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lengths[rnd.nextInt(lengths.length)]);
        return b;
    }

    private static final String[] HEADER_EDITS = {"-1", "0", "1", "7", "99999999999999999999", "1e3", "2.5", "\"x\"",
            "null", "[]", "{}", "\"F32\"", "\"BF16\"", "\"I4\"", "\"Q9\"", "[1,2]", "[4294967296,4294967296]", "\"\\ud800\""};

    /** Replaces a token of the JSON header (a number, a string or a bracket) and rewrites a consistent length. */
    private byte[] editSafetensorsHeader(byte[] b, boolean fixLength) {
        long len = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(b, 8, (int) len, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(b, 8 + (int) len, b.length);
        int at = rnd.nextInt(header.length());
        int end = at;
        while (end < header.length() && Character.isLetterOrDigit(header.charAt(end))) end++;
        end = Math.max(end, at + 1);
        String edited = header.substring(0, at) + HEADER_EDITS[rnd.nextInt(HEADER_EDITS.length)] + header.substring(end);
        byte[] h = edited.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(fixLength ? h.length : len).put(h).put(data);
        return out.array();
    }

    /** Inserts a few random pickle opcodes (from those the reader knows, and some it does not) somewhere. */
    private byte[] spliceOpcodes(byte[] b) {
        byte[] ops = {'(', ')', '0', '1', '2', 'N', 't', 'R', 'b', 'Q', 's', 'u', 'a', 'e', ']', '}', 'h', 'q', 'j', 'r',
                'K', 'J', 'M', 'X', (byte) 0x8a, (byte) 0x8c, (byte) 0x85, (byte) 0x93, (byte) 0x94, '.', 'c', 'i', 'o'};
        int at = rnd.nextInt(Math.max(1, Math.min(b.length, 700)));
        int n = 1 + rnd.nextInt(4);
        byte[] out = new byte[b.length + n];
        System.arraycopy(b, 0, out, 0, at);
        for (int i = 0; i < n; i++) out[at + i] = rnd.nextInt(4) == 0 ? (byte) rnd.nextInt(256) : ops[rnd.nextInt(ops.length)];
        System.arraycopy(b, at, out, at + n, b.length - at);
        return out;
    }

    private static final String[][] RENAMES = {
            {"FloatStorage", "ComplexFloatStorage"}, {"HalfStorage", "FloatStorage"}, {"FloatStorage", "BFloat16Storage"},
            {"_rebuild_tensor_v2", "_rebuild_parameter"}, {"OrderedDict", "defaultdict"}, {"collections", "torch._utils"},
            {"_rebuild_tensor_v2", "_rebuild_from_type_v2"}, {"storage", "storagE"}};

    /** Swaps allowed globals for others of the same length class, so the pickle stays well-formed but means another thing. */
    private byte[] renameGlobals(byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        String[] r = RENAMES[rnd.nextInt(RENAMES.length)];
        int at = s.indexOf(r[0], rnd.nextInt(Math.max(1, s.length() / 2)));
        if (at < 0) at = s.indexOf(r[0]);
        if (at < 0) return flipBytes(b);
        String edited = s.substring(0, at) + r[1] + s.substring(at + r[0].length());
        return edited.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Map<String, byte[]> unzip(Path zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(zip.toFile())) {
            for (ZipEntry e : Collections.list(z.entries())) out.put(e.getName(), z.getInputStream(e).readAllBytes());
        }
        return out;
    }

    /** The zip rebuilt (entries stored, CRCs right) with data.pkl transformed, so the zip is fine and the pickle is not. */
    private static byte[] rezipWithPickle(Map<String, byte[]> entries, UnaryOperator<byte[]> mutatePickle) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                byte[] content = e.getKey().endsWith("data.pkl") ? mutatePickle.apply(e.getValue().clone()) : e.getValue();
                ZipEntry stored = new ZipEntry(e.getKey());
                stored.setMethod(ZipEntry.STORED);
                stored.setSize(content.length);
                CRC32 crc = new CRC32();
                crc.update(content);
                stored.setCrc(crc.getValue());
                out.putNextEntry(stored);
                out.write(content);
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** A small valid file: several dtypes (I4 with an odd count), an empty tensor, metadata. */
    private byte[] sampleSafetensors() throws IOException {
        Random r = new Random(3);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", SafetensorsTest.randomTensor(DType.F32, r, 3, 4));
        t.put("h", SafetensorsTest.randomTensor(DType.BF16, r, 5));
        t.put("q", SafetensorsTest.randomTensor(DType.I4, r, 7));
        t.put("e", SafetensorsTest.randomTensor(DType.F16, r, 0));
        t.put("i", SafetensorsTest.randomTensor(DType.I64, r, 2));
        Path file = dir.resolve("sample.safetensors");
        SafetensorsWriter.write(file, t, Map.of("format", "pt"));
        return Files.readAllBytes(file);
    }
}
