package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./viditq calibrate} → {@code quantize} → {@code forward} on the golden DiT, and the commands' refusals. */
class QuantizeCommandTest {
    private static Path dit;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void needGolden() {
        dit = GoldenFolder.GOLDEN.resolve("dit");
    }

    @Test
    void calibrateQuantizeAndRunTheQuantizedFolder() throws Exception {
        Path calib = tmp.resolve("dit.calib.safetensors");
        CliRun c = run("calibrate", "--model", dit.toString(), "--class-labels", "1,2", "--steps", "3", "--out", calib.toString(), "--json");
        assertEquals(0, c.code(), c.err());
        JsonNode cj = Json.MAPPER.readTree(c.out());
        assertEquals(2, cj.get("prompts").asInt());
        assertEquals(3, cj.get("steps").asInt());

        Path out = tmp.resolve("dit-w8a8");
        CliRun q = run("quantize", "--model", dit.toString(), "--preset", "viditq-w8a8", "--calibration", calib.toString(),
                "--out", out.toString(), "--json");
        assertEquals(0, q.code(), q.err());
        JsonNode qj = Json.MAPPER.readTree(q.out());
        assertEquals("viditq", qj.get("method").asText());
        assertEquals(8, qj.get("quantized_layers").asInt());
        assertEquals(8, qj.get("precisions").get("W8A8").asInt());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")) && Files.isRegularFile(out.resolve("config.json")));

        CliRun f = run("forward", "--model", out.toString(), "--inputs", dit.resolve("io.safetensors").toString(),
                "--out", tmp.resolve("o.safetensors").toString(), "--expect", "out", "--tolerance", "0.05");
        assertEquals(0, f.code(), f.err());
        assertTrue(f.err().contains("quantized model (viditq, 8 layers): integer kernels"), f.err());

        CliRun again = run("quantize", "--model", dit.toString(), "--preset", "viditq-w8a8", "--calibration", calib.toString(),
                "--out", out.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists"), again.err());
    }

    @Test
    void refusalsWriteNothing() throws Exception {
        Path out = tmp.resolve("never");
        CliRun noCalib = run("quantize", "--model", dit.toString(), "--preset", "naive-w8a8", "--out", out.toString());
        assertEquals(1, noCalib.code());
        assertTrue(noCalib.err().contains("needs calibration statistics"), noCalib.err());

        Path cfg = tmp.resolve("bad.yaml");
        Files.writeString(cfg, "method: quarot\nweight: {bits: 12}\n");
        CliRun badBits = run("quantize", "--model", dit.toString(), "--config", cfg.toString(), "--out", out.toString());
        assertEquals(1, badBits.code());
        assertTrue(badBits.err().contains("'weight.bits' is 12, outside 2..8"), badBits.err());

        Files.writeString(cfg, "method: quarot\nkeep_float: ['blocks\\.5\\..*']\n");
        CliRun noLayer = run("quantize", "--model", dit.toString(), "--config", cfg.toString(), "--out", out.toString());
        assertEquals(1, noLayer.code());
        assertTrue(noLayer.err().contains("matches no Linear of the model"), noLayer.err());

        CliRun unknown = run("quantize", "--model", dit.toString(), "--preset", "w3a3", "--out", out.toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("unknown preset 'w3a3'"), unknown.err());
        assertFalse(Files.exists(out));
        try (var left = Files.list(tmp)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".never")), "no temporary folder left behind");
        }
    }
}
