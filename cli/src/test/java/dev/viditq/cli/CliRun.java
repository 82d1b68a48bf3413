package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.testing.CapturedRun;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One {@code ./viditq} command run in-process through {@link Main#execute}, with its exit code, stdout and stderr
 * captured (System.out / System.err are restored afterwards): the harness of the command tests.
 */
record CliRun(String command, int code, String out, String err) {
    static CliRun run(String... args) {
        CapturedRun r = CapturedRun.of(() -> Main.execute(args));
        return new CliRun(String.join(" ", args), r.code(), r.out(), r.err());
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
