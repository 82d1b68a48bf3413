package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code export onnx} and the argument checks of {@code bench e2e} (the measurements themselves are tested in bench). */
class ExportCommandTest {
    private static final Path GOLDEN = Path.of(System.getProperty("viditq.golden", "../shared/golden"));

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        PrintStream stdout = System.out, stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void exportsTheGoldenPixArtAsOnnxWithItsDataFile(@TempDir Path tmp) throws Exception {
        Path model = GOLDEN.resolve("pixart_original");
        assumeTrue(Files.isDirectory(model), "golden case pixart_original not available");
        Path out = tmp.resolve("pixart.onnx");
        Run r = run("export", "onnx", "--model", model.toString(), "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals("pixart", json.get("family").asText());
        assertTrue(Files.size(out) > 0 && Files.size(tmp.resolve("pixart.onnx.data")) == json.get("initializer_bytes").asLong());
    }

    @Test
    void userErrorsAreOneLineNamingTheProblem(@TempDir Path tmp) {
        Run missing = run("export", "onnx", "--model", tmp.resolve("nope").toString(), "--out", tmp.resolve("x.onnx").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope") && missing.err().contains("not a model folder"), missing.err());
        Run setting = run("bench", "e2e", "--setting", "w2a2", "--no-fork", "--cache", tmp.toString());
        assertEquals(1, setting.code());
        assertTrue(setting.err().contains("unknown setting 'w2a2'"), setting.err());
        Run arch = run("bench", "e2e", "--arch", "pixart-huge", "--no-fork", "--cache", tmp.toString());
        assertTrue(arch.err().contains("unknown architecture 'pixart-huge'") && arch.err().contains("pixart-xl-2-256"), arch.err());
    }
}
