package dev.viditq.core.io;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** A tensor of {@code dtype} filled with random bytes (every bit pattern is a valid value to round-trip). */
    static Tensor randomTensor(DType dtype, Random rnd, long... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        byte[] bytes = new byte[(int) t.byteSize()];
        rnd.nextBytes(bytes);
        if (dtype == DType.BOOL) for (int i = 0; i < bytes.length; i++) bytes[i] &= 1;
        t.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
        return t;
    }

    static byte[] bytesOf(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void everyDtypeRoundTripsBitExactWithMetadata(DType dtype) {
        Random rnd = new Random(dtype.ordinal());
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("odd", randomTensor(dtype, rnd, 3, 5)); // 15 elements: I4's last byte is half used
        in.put("vector", randomTensor(dtype, rnd, 7));
        in.put("scalar", randomTensor(dtype, rnd));
        in.put("empty", randomTensor(dtype, rnd, 0, 4));
        Map<String, String> meta = Map.of("format", "pt", "note", "ünïcode ✓");
        Path file = dir.resolve(dtype + ".safetensors");
        SafetensorsWriter.write(file, in, meta);

        try (Safetensors st = Safetensors.open(file)) {
            assertEquals(List.copyOf(in.keySet()), List.copyOf(st.names()));
            assertEquals(meta, st.metadata());
            for (var e : in.entrySet()) {
                Tensor got = st.get(e.getKey());
                assertEquals(dtype, got.dtype());
                assertArrayEquals(e.getValue().shape(), got.shape());
                assertArrayEquals(bytesOf(e.getValue()), bytesOf(got), e.getKey());
            }
        }
    }

    @Test
    void dataRegionIsEightByteAlignedAndFileHasNoMetadataWhenNoneGiven() throws IOException {
        Path file = dir.resolve("a.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.of(new float[]{1, 2, 3}, 3)));
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        try (Safetensors st = Safetensors.open(file)) {
            assertTrue(st.metadata().isEmpty());
            assertArrayEquals(new float[]{1, 2, 3}, st.get("x").toFloatArray());
        }
    }

    @Test
    void missingTensorIsNamed() {
        Path file = dir.resolve("a.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.zeros(2)));
        try (Safetensors st = Safetensors.open(file)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> st.get("y"));
            assertTrue(e.getMessage().contains("'y'") && e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    // ---- header validation: one broken header per problem, each message naming file, tensor and problem ----

    /** Writes {@code json} as a header followed by {@code dataBytes} zero bytes. */
    Path withHeader(String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    void assertRefused(Path file, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), () -> "'" + f + "' not in: " + e.getMessage());
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> badHeaders() {
        return Stream.<String[]>of(
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", "'a'", "outside the data region of 16"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "'a'", "'b'", "overlap"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "'a'", "'b'", "overlap"},
                new String[]{"{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", "'a'", "unsupported dtype \"Q7\""},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "'a'", "occupies 8 bytes", "needs 12"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "'a'", "data_offsets [8, 0)"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "'a'", "invalid dimension -2"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "'a'", "invalid dimension 2.5"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", "'a'", "overflows"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "'a'", "malformed data_offsets"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}", "'a'", "malformed data_offsets"},
                new String[]{"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "'a'", "lacks dtype"},
                new String[]{"{\"a\":[1,2,3]}", "'a'", "not a JSON object"},
                new String[]{"{\"a\":\"F32\"}", "'a'", "not a JSON object"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", "'a'", "shape that is not an array"},
                new String[]{"[1,2]", "not a JSON object"},
                new String[]{"{\"a\": ", "not valid JSON"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} xyz", "not valid JSON"},
                new String[]{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "not valid JSON", "Duplicate field 'a'"},
                new String[]{"{\"__metadata__\":[1]}", "__metadata__ is not a JSON object"},
                new String[]{"{\"__metadata__\":{\"k\":1}}", "__metadata__ entry 'k' is not a string"})
                .map(c -> org.junit.jupiter.params.provider.Arguments.of((Object) c));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("badHeaders")
    void badHeaderIsRefusedWithTheProblemNamed(String[] c) throws IOException {
        assertRefused(withHeader(c[0], 16), Arrays.copyOfRange(c, 1, c.length));
    }

    @Test
    void invalidUtf8HeaderIsRefused() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        Path file = dir.resolve("utf8.safetensors");
        Files.write(file, b.array());
        assertRefused(file, "not valid UTF-8");
    }

    @Test
    void absurdHeaderLengthAndShortFilesAreRefused() throws IOException {
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
        assertRefused(huge, "header length " + Long.MAX_VALUE, "impossible");
        Path negative = dir.resolve("negative.safetensors");
        Files.write(negative, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertRefused(negative, "header length -5");
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[]{1, 2, 3});
        assertRefused(tiny, "3 bytes is too short");
    }

    @Test
    void truncatedFileNamesTheTensorThatNoLongerFits() throws IOException {
        Path file = dir.resolve("t.safetensors");
        Map<String, Tensor> two = new LinkedHashMap<>();
        two.put("first", Tensor.zeros(4));
        two.put("second", Tensor.zeros(4));
        SafetensorsWriter.write(file, two);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - 3));
        assertRefused(file, "'second'", "truncated");
    }

    @Test
    void emptyTensorsMayShareAnOffsetAndGapsAreTolerated() throws IOException {
        Path file = withHeader("{\"e1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"e2\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}", 8);
        try (Safetensors st = Safetensors.open(file)) {
            assertEquals(Set.of("e1", "a", "e2", "b"), st.names());
            assertEquals(0, st.get("e2").numel());
        }
    }

    @Test
    void missingFileAndDirectoryAreNamed() {
        assertRefused(dir.resolve("nope.safetensors"), "no such file");
        assertRefused(dir, "is a directory");
    }

    // ---- writer ----

    @Test
    void writerRefusesADirectoryTarget() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> SafetensorsWriter.write(dir, Map.of("x", Tensor.zeros(1))));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void failedWriteLeavesThePreviousFileIntactAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("keep.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.of(new float[]{1, 2}, 2)));
        byte[] before = Files.readAllBytes(file);

        List<SafetensorsWriter.Entry> entries = List.of(
                SafetensorsWriter.Entry.of("fine", Tensor.zeros(1000)),
                new SafetensorsWriter.Entry("boom", DType.F32, new long[]{4}, arena -> {
                    throw new IllegalStateException("disk on fire");
                }));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> SafetensorsWriter.writeEntries(file, entries, Map.of()));
        assertTrue(e.getMessage().contains("'boom'") && e.getMessage().contains("disk on fire"), e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "temporary file left behind");
        }
    }

    @Test
    void entryProducingTheWrongShapeIsRefused() {
        Path file = dir.resolve("shape.safetensors");
        var entry = new SafetensorsWriter.Entry("w", DType.F32, new long[]{2, 3}, arena -> Tensor.zeros(3, 2));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> SafetensorsWriter.writeEntries(file, List.of(entry), Map.of()));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void writerRefusesTheMetadataKeyAsATensorName() {
        Path file = dir.resolve("m.safetensors");
        assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(file, Map.of("__metadata__", Tensor.zeros(1))));
        assertFalse(Files.exists(file));
    }

    @Test
    void rewritingAFileFromItsOwnMappingIsSafe() {
        Path file = dir.resolve("self.safetensors");
        Random rnd = new Random(7);
        Tensor original = randomTensor(DType.BF16, rnd, 33, 17);
        SafetensorsWriter.write(file, Map.of("w", original));
        try (Safetensors st = Safetensors.open(file)) {
            SafetensorsWriter.write(file, Map.of("w", st.get("w"), "extra", Tensor.zeros(2)));
        }
        try (Safetensors st = Safetensors.open(file)) {
            assertArrayEquals(bytesOf(original), bytesOf(st.get("w")));
        }
    }
}
