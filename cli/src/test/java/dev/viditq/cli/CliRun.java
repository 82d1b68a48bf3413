package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One {@code ./viditq} command run in-process through {@link Main#execute}, with its exit code, stdout and stderr
 * captured (System.out / System.err are restored afterwards): the harness of the command tests.
 */
record CliRun(String command, int code, String out, String err) {
    static CliRun run(String... args) {
        PrintStream stdout = System.out, stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.execute(args);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        return new CliRun(String.join(" ", args), code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Stdout after checking the exit code (stderr in the failure message). */
    String out(int expectedCode) {
        assertEquals(expectedCode, code, () -> command + "\n" + err);
        return out;
    }

    /** Stdout as JSON after checking the command succeeded: fails unless stdout is exactly one JSON document. */
    JsonNode json() throws IOException {
        return Json.MAPPER.readTree(out(0));
    }
}
