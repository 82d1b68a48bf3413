package dev.viditq.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Reads the checkpoints torch itself wrote (src/test/resources/pth, made by make_fixtures.py) and compares
 * every tensor with what torch reported in expected.json.
 */
class PthFileTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(Objects.requireNonNull(PthFileTest.class.getResource("/pth/" + name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode expected(String name) throws IOException {
        return new ObjectMapper().readTree(fixture("expected.json").toFile()).get(name).get("tensors");
    }

    /** Every tensor torch listed, with its dtype, shape and values, and nothing else. */
    static void assertMatchesTorch(TensorFile file, JsonNode want) {
        assertEquals(want.size(), file.names().size(), "tensor names " + file.names());
        for (Map.Entry<String, JsonNode> e : want.properties()) {
            Tensor t = file.get(e.getKey());
            JsonNode w = e.getValue();
            assertEquals(DType.valueOf(w.get("dtype").asText()), t.dtype(), e.getKey());
            long[] shape = new long[w.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = w.get("shape").get(i).asLong();
            assertArrayEquals(shape, t.shape(), e.getKey());
            JsonNode values = w.get("values");
            assertEquals(values.size(), t.numel(), e.getKey());
            for (int i = 0; i < values.size(); i++) {
                if (t.dtype().isFloating()) {
                    assertEquals((float) values.get(i).asDouble(), t.getFloat(i), e.getKey() + "[" + i + "]");
                } else {
                    assertEquals(values.get(i).asLong(), t.getLong(i), e.getKey() + "[" + i + "]");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtypes.pth", "views.pth", "nested_ema.pth", "wrapped_state_dict.pth", "parameter.pth",
            "protocol4.pth", "legacy.pth"})
    void readsWhatTorchWrote(String name) throws IOException {
        try (TensorFile f = Checkpoints.open(fixture(name))) {
            assertInstanceOf(PthFile.class, f);
            assertMatchesTorch(f, expected(name));
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void viewsShareTheirStorageWithoutCopies() {
        try (PthFile f = PthFile.open(fixture("views.pth"))) {
            MemorySegment whole = f.get("whole").data();
            MemorySegment tail = f.get("tail").data();
            MemorySegment rows = f.get("rows").data();
            assertTrue(whole.isMapped(), "storage not memory-mapped");
            assertEquals(whole.address() + 5 * 4, tail.address(), "tail should start 5 floats into the storage");
            assertEquals(whole.address() + 6 * 4, rows.address(), "rows [1:3] of 4x6 start 6 floats in");
        }
    }

    @Test
    void emaIsChosenOverModelAndTheChoiceIsReported() {
        try (PthFile f = PthFile.open(fixture("nested_ema.pth"))) {
            assertEquals("ema", f.entry());
            assertEquals(Set.of("model", "opt", "steps", "note"), Set.copyOf(f.ignored()));
        }
    }

    @Test
    void anExplicitEntryOverridesTheAutomaticChoice() throws IOException {
        try (PthFile model = PthFile.open(fixture("nested_ema.pth"), "model");
             PthFile ema = PthFile.open(fixture("nested_ema.pth"))) {
            assertEquals("model", model.entry());
            assertNotEquals(ema.get("w").getFloat(0), model.get("w").getFloat(0), "model weights differ from EMA");
        }
        try (PthFile opt = PthFile.open(fixture("nested_ema.pth"), "opt/state")) {
            assertEquals(Set.of("0.exp_avg"), opt.names());
            assertTrue(opt.ignored().contains("0.step"));
        }
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> PthFile.open(fixture("nested_ema.pth"), "weights"));
        assertTrue(e.getMessage().contains("no dict at entry 'weights'") && e.getMessage().contains("ema"), e.getMessage());
    }

    @Test
    void theTopLevelEntryFlattensNestedDictsWithDots() {
        try (PthFile f = PthFile.open(fixture("nested_ema.pth"), "")) {
            assertEquals("", f.entry());
            assertEquals(Set.of("model.w", "model.b", "ema.w", "ema.b", "opt.state.0.exp_avg"), f.names());
            assertTrue(f.ignored().containsAll(List.of("steps", "note", "opt.state.0.step", "opt.param_groups")), f.ignored().toString());
        }
    }

    /** pickle.dumps({"a": 1}, protocol=2) */
    static final byte[] PLAIN_DICT_PICKLE = {(byte) 0x80, 2, '}', 'q', 0, 'X', 1, 0, 0, 0, 'a', 'q', 1, 'K', 1, 's', '.'};

    @Test
    void aStateDictWithoutTensorsIsExplained() throws IOException {
        Path file = dir.resolve("empty.pth");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
            out.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            out.write(PLAIN_DICT_PICKLE);
            out.closeEntry();
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> PthFile.open(file));
        assertTrue(e.getMessage().contains("holds no tensors in the top-level dict; its keys are [a]"), e.getMessage());
    }

    @Test
    void wrappedStateDictIsUnwrapped() {
        try (PthFile f = PthFile.open(fixture("wrapped_state_dict.pth"))) {
            assertEquals("state_dict", f.entry());
            assertTrue(f.names().contains("2.num_batches_tracked"));
            assertEquals(DType.I64, f.get("2.num_batches_tracked").dtype());
        }
    }

    @Test
    void nonContiguousTensorIsRefusedByName() {
        Path file = fixture("noncontiguous.pth");
        CheckpointException e = assertThrows(CheckpointException.class, () -> PthFile.open(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("tensor 'transposed' is not contiguous"), e.getMessage());
        assertTrue(e.getMessage().contains("stride [1, 6]"), e.getMessage());
    }

    @Test
    void pickledCodeIsNeverRunAndTheGlobalIsNamed() {
        Path file = fixture("evil.pth");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("pickle global 'posix.system' is not allowed"), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    @Test
    void truncatedZipIsRefused() throws IOException {
        byte[] all = Files.readAllBytes(fixture("dtypes.pth"));
        Path cut = dir.resolve("cut.pth");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(cut));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("zip"), e.getMessage());
    }

    @Test
    void truncatedLegacyFileNamesTheMissingStorage() throws IOException {
        byte[] all = Files.readAllBytes(fixture("legacy.pth"));
        Path cut = dir.resolve("cut.pth");
        Files.write(cut, Arrays.copyOf(all, all.length - 4));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(cut));
        assertTrue(e.getMessage().contains("storage") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void aPickleThatIsNotTorchsIsRefused() throws IOException {
        Path file = dir.resolve("plain.pkl");
        Files.write(file, PLAIN_DICT_PICKLE); // no torch magic number in front
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("starts like a Python pickle, but not one torch.save writes"), e.getMessage());
    }

    @Test
    void aZipWithoutDataPklIsNotACheckpoint() throws IOException {
        Path file = dir.resolve("other.zip");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
            out.putNextEntry(new java.util.zip.ZipEntry("readme.txt"));
            out.write("hello".getBytes());
            out.closeEntry();
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("without data.pkl"), e.getMessage());
    }

    @Test
    void reCompressedStoragesAreInflated() throws IOException {
        // Re-zip a torch checkpoint with DEFLATE (as a careless tool might): the reader inflates instead of mapping.
        Path deflated = dir.resolve("deflated.pth");
        try (var in = new java.util.zip.ZipFile(fixture("dtypes.pth").toFile());
             var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(deflated))) {
            for (var e : Collections.list(in.entries())) {
                out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                in.getInputStream(e).transferTo(out);
                out.closeEntry();
            }
        }
        try (TensorFile f = Checkpoints.open(deflated)) {
            assertMatchesTorch(f, expected("dtypes.pth"));
            assertFalse(f.get("f32").data().isMapped());
        }
    }
}
