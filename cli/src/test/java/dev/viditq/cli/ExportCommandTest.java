package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code export onnx} and the argument checks of {@code bench e2e} (the measurements themselves are tested in bench). */
class ExportCommandTest {

    @Test
    void exportsTheGoldenPixArtAsOnnxWithItsDataFile(@TempDir Path tmp) throws Exception {
        Path model = GoldenFolder.GOLDEN.resolve("pixart_original");
        Path out = tmp.resolve("pixart.onnx");
        CliRun r = run("export", "onnx", "--model", model.toString(), "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals("pixart", json.get("family").asText());
        assertTrue(Files.size(out) > 0 && Files.size(tmp.resolve("pixart.onnx.data")) == json.get("initializer_bytes").asLong());
    }

    @Test
    void userErrorsAreOneLineNamingTheProblem(@TempDir Path tmp) {
        CliRun missing = run("export", "onnx", "--model", tmp.resolve("nope").toString(), "--out", tmp.resolve("x.onnx").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope") && missing.err().contains("not a model folder"), missing.err());
        CliRun setting = run("bench", "e2e", "--setting", "w2a2", "--no-fork", "--cache", tmp.toString());
        assertEquals(1, setting.code());
        assertTrue(setting.err().contains("unknown setting 'w2a2'"), setting.err());
        CliRun arch = run("bench", "e2e", "--arch", "pixart-huge", "--no-fork", "--cache", tmp.toString());
        assertTrue(arch.err().contains("unknown architecture 'pixart-huge'") && arch.err().contains("pixart-xl-2-256"), arch.err());
    }
}
