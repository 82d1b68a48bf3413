package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.PthFile;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code ./viditq inspect} and {@code ./viditq convert}, run through {@link Main#execute} with captured output. */
class CheckpointCommandsTest {
    /** The PyTorch fixtures torch wrote, kept with the core reader's tests. */
    static final Path PTH = Path.of("..", "core", "src", "test", "resources", "pth");

    @TempDir
    Path dir;



    Path smallSafetensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("blocks.0.w", Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("ids", Tensor.zeros(DType.I64, 4));
        Path file = dir.resolve("small.safetensors");
        SafetensorsWriter.write(file, t, Map.of("format", "pt"));
        return file;
    }

    @Test
    void inspectPrintsTensorsTotalsAndMetadata() {
        CliRun r = run("inspect", smallSafetensors().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("blocks.0.w") && r.out().contains("[2, 3]") && r.out().contains("F32"), r.out());
        assertTrue(r.out().contains("2 tensors, 10 parameters, 56 bytes"), r.out());
        assertTrue(r.out().contains("format = pt"), r.out());
    }

    @Test
    void inspectJsonIsOneObjectWhoseTotalsAddUp() throws IOException {
        CliRun r = run("inspect", smallSafetensors().toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertEquals("safetensors", o.get("format").asText());
        long bytes = 0, params = 0;
        for (JsonNode t : o.get("tensors")) {
            bytes += t.get("bytes").asLong();
            long n = 1;
            for (JsonNode d : t.get("shape")) n *= d.asLong();
            params += n;
        }
        assertEquals(bytes, o.get("total").get("bytes").asLong());
        assertEquals(params, o.get("total").get("parameters").asLong());
        assertEquals(1, o.get("by_dtype").get("I64").get("tensors").asLong());
        assertEquals("pt", o.get("metadata").get("format").asText());
    }

    @Test
    void inspectReportsWhichPthEntryWasChosen() throws IOException {
        CliRun r = run("inspect", PTH.resolve("nested_ema.pth").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertEquals("pytorch", o.get("format").asText());
        assertEquals("ema", o.get("entry").asText());
        assertTrue(o.get("ignored").toString().contains("\"model\""), o.toString());

        CliRun model = run("inspect", PTH.resolve("nested_ema.pth").toString(), "--entry", "model");
        assertEquals(0, model.code(), model.err());
        assertTrue(model.out().contains("entry     model"), model.out());
    }

    @Test
    void inspectFindsTheCheckpointInADiffusersFolder() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("transformer"));
        Files.copy(smallSafetensors(), folder.resolve("diffusion_pytorch_model.safetensors"));
        Files.writeString(folder.resolve("config.json"), "{}");
        CliRun r = run("inspect", folder.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("diffusion_pytorch_model.safetensors"), r.out());
    }

    @Test
    void convertPthToSafetensorsCastingFloatsToBf16() {
        Path in = PTH.resolve("dtypes.pth"), out = dir.resolve("out.safetensors");
        CliRun r = run("convert", in.toString(), out.toString(), "--dtype", "bf16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote " + out), r.out());
        try (PthFile src = PthFile.open(in); Safetensors dst = Safetensors.open(out)) {
            assertEquals(List.copyOf(src.names()), List.copyOf(dst.names()));
            assertEquals("pt", dst.metadata().get("format"));
            for (String name : src.names()) {
                Tensor a = src.get(name), b = dst.get(name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertEquals(a.dtype().isFloating() ? DType.BF16 : a.dtype(), b.dtype(), name);
                for (long i = 0; i < a.numel(); i++) {
                    float want = a.dtype().isFloating() ? Tensor.bf16ToFloat(Tensor.floatToBf16(a.getFloat(i))) : a.getFloat(i);
                    assertEquals(want, b.getFloat(i), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void convertWithoutCastKeepsEveryByte() {
        Path in = PTH.resolve("legacy.pth"), out = dir.resolve("sub/legacy.safetensors");
        CliRun r = run("convert", in.toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        try (PthFile src = PthFile.open(in); Safetensors dst = Safetensors.open(out)) {
            for (String name : src.names()) {
                assertEquals(src.get(name).dtype(), dst.get(name).dtype());
                assertArrayEquals(src.get(name).data().toArray(ValueLayout.JAVA_BYTE),
                        dst.get(name).data().toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
    }

    // ---- bad input: one line naming the file and the problem, exit 1, no stack trace ----

    void assertCleanError(CliRun r, String... fragments) {
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line expected:\n" + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), () -> "'" + f + "' not in " + r.err());
    }

    Path rawSafetensors(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void missingPath() {
        Path missing = dir.resolve("nope.safetensors");
        assertCleanError(run("inspect", missing.toString()), missing.toString(), "no such file");
        assertCleanError(run("convert", missing.toString(), dir.resolve("o.safetensors").toString()), "no such file");
    }

    @Test
    void directoryWithoutCheckpointAndDirectoryAsOutput() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertCleanError(run("inspect", empty.toString()), empty.toString(), "holds no checkpoint");
        assertCleanError(run("convert", smallSafetensors().toString(), empty.toString()), empty.toString(), "is a directory");
    }

    @Test
    void truncatedFile() throws IOException {
        Path file = smallSafetensors();
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - 10));
        assertCleanError(run("inspect", file.toString()), file.toString(), "truncated");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path file = rawSafetensors("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertCleanError(run("inspect", file.toString()), file.toString(), "'a'", "'b'", "overlap");
    }

    @Test
    void unsupportedDtype() throws IOException {
        Path file = rawSafetensors("f8.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
        assertCleanError(run("convert", file.toString(), dir.resolve("o.safetensors").toString()),
                file.toString(), "tensor 'w'", "unsupported dtype \"F8_E4M3\"");
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
    }

    @Test
    void unexpectedPickleGlobalAndNonContiguousTensor() {
        assertCleanError(run("inspect", PTH.resolve("evil.pth").toString()), "evil.pth", "pickle global 'posix.system' is not allowed");
        assertCleanError(run("inspect", PTH.resolve("noncontiguous.pth").toString()), "tensor 'transposed' is not contiguous");
    }

    @Test
    void badDtypeOptionIsAUsageError() {
        CliRun r = run("convert", smallSafetensors().toString(), dir.resolve("o.safetensors").toString(), "--dtype", "int8");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--dtype must be bf16, f16 or f32, not 'int8'"), r.err());
    }

    @Test
    void verboseShowsTheStackTraceAndDoesNotStick() {
        Path missing = dir.resolve("nope.safetensors");
        CliRun verbose = run("--verbose", "inspect", missing.toString());
        assertEquals(1, verbose.code());
        assertTrue(verbose.err().contains("CheckpointException") && verbose.err().contains("\tat "), verbose.err());
        CliRun after = run("inspect", missing.toString());
        assertCleanError(after, "no such file");
    }
}
