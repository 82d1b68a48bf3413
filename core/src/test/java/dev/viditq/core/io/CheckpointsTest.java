package dev.viditq.core.io;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Checkpoints#open}: format by content, the checkpoint of a folder, and sharded checkpoints. */
class CheckpointsTest {
    @TempDir
    Path dir;

    Path safetensors(Path file, String... names) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) t.put(names[i], Tensor.of(new float[]{i, i + 0.5f}, 2));
        SafetensorsWriter.write(file, t);
        return file;
    }

    @Test
    void formatComesFromContentNotName() throws IOException {
        Path disguised = dir.resolve("weights.pth");
        Files.copy(safetensors(dir.resolve("a.safetensors"), "x"), disguised);
        try (TensorFile f = Checkpoints.open(disguised)) {
            assertInstanceOf(Safetensors.class, f);
        }
        Path zipNamedSafetensors = dir.resolve("b.safetensors");
        Files.copy(PthFileTest.fixture("dtypes.pth"), zipNamedSafetensors);
        try (TensorFile f = Checkpoints.open(zipNamedSafetensors)) {
            assertInstanceOf(PthFile.class, f);
        }
        try (TensorFile f = Checkpoints.open(PthFileTest.fixture("legacy_protocol4.pth"))) {
            assertInstanceOf(PthFile.class, f);
            PthFileTest.assertMatchesTorch(f, PthFileTest.expected("legacy_protocol4.pth"));
        }
    }

    @Test
    void safetensorsWhoseHeaderLengthLooksLikeAPickleIsStillSafetensors() throws IOException {
        // header length 0x0280 = 640: the file starts 80 02, like a pickle's PROTO 2
        String json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] header = (json + " ".repeat(640 - json.length())).getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(8 + 640 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(640).put(header);
        Path file = Files.write(dir.resolve("p.safetensors"), b.array());
        assertEquals((byte) 0x80, Files.readAllBytes(file)[0]);
        try (TensorFile f = Checkpoints.open(file)) {
            assertEquals(Set.of("x"), f.names());
        }
    }

    @Test
    void aFolderOpensItsCanonicalCheckpointFirst() throws IOException {
        safetensors(dir.resolve("other.safetensors"), "other");
        safetensors(dir.resolve("diffusion_pytorch_model.safetensors"), "canonical");
        try (TensorFile f = Checkpoints.open(dir)) {
            assertEquals(Set.of("canonical"), f.names());
        }
    }

    @Test
    void aFolderWithOneCheckpointOfAnyNameOpensIt() throws IOException {
        Files.copy(PthFileTest.fixture("views.pth"), dir.resolve("PixArt-XL-2-512x512.pth"));
        Files.writeString(dir.resolve("config.json"), "{}");
        assertEquals(dir.resolve("PixArt-XL-2-512x512.pth"), Checkpoints.findIn(dir));
    }

    @Test
    void ambiguousAndEmptyFoldersAreRefusedClearly() throws IOException {
        CheckpointException empty = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(empty.getMessage().startsWith(dir + ": holds no checkpoint"), empty.getMessage());

        Files.createDirectory(dir.resolve("transformer"));
        CheckpointException pipeline = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(pipeline.getMessage().contains("point at its transformer/ folder"), pipeline.getMessage());

        safetensors(dir.resolve("a.safetensors"), "x");
        safetensors(dir.resolve("b.safetensors"), "x");
        CheckpointException two = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(two.getMessage().contains("several checkpoints [a.safetensors, b.safetensors]"), two.getMessage());
    }

    @Test
    void entryIsOnlyForPyTorchFiles() {
        Path file = safetensors(dir.resolve("a.safetensors"), "x");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file, "ema"));
        assertTrue(e.getMessage().contains("not a PyTorch checkpoint"), e.getMessage());
    }

    // ---- sharded ----

    Path index(String weightMap) throws IOException {
        return Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":24},\"weight_map\":{" + weightMap + "}}");
    }

    @Test
    void shardedCheckpointIsOneTensorFile() throws IOException {
        safetensors(dir.resolve("model-00001-of-00002.safetensors"), "a", "b");
        safetensors(dir.resolve("model-00002-of-00002.safetensors"), "unlisted", "c");
        index("\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\","
                + "\"b\":\"model-00001-of-00002.safetensors\"");
        try (TensorFile f = Checkpoints.open(dir)) {
            ShardedCheckpoint s = assertInstanceOf(ShardedCheckpoint.class, f);
            assertEquals(List.of("a", "c", "b"), List.copyOf(f.names()));
            assertEquals(2, s.shards().size());
            assertEquals(0.5f, f.get("a").getFloat(1));
            assertEquals(1.5f, f.get("c").getFloat(1)); // "c" is the second tensor of its own shard
            assertFalse(f.contains("unlisted"), "a tensor the index does not list stays hidden");
            assertEquals("24", f.metadata().get("total_size"));
        }
    }

    @Test
    void shardProblemsNameTheIndexAndTheTensor() throws IOException {
        safetensors(dir.resolve("s1.safetensors"), "a");
        index("\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"");
        CheckpointException notThere = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(notThere.getMessage().contains("tensor 'b' is not in its shard s1.safetensors"), notThere.getMessage());

        index("\"a\":\"missing.safetensors\"");
        CheckpointException missing = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(missing.getMessage().contains("missing.safetensors: no such file"), missing.getMessage());

        index("\"a\":\"../s1.safetensors\"");
        CheckpointException escape = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(escape.getMessage().contains("expected a file name beside the index"), escape.getMessage());

        index("\"a\":\"model.safetensors.index.json\"");
        assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
    }
}
