package dev.viditq.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The sweep and report commands' refusals, through the CLI: one line naming the problem, exit 1, nothing written.
 * (The sweep itself runs end to end in the eval module's SweepTest.)
 */
class SweepCommandTest {
    @Test
    void badSweepInputIsOneClearLine(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        CliRun unknown = run("sweep", "--model", EvalCommandTest.T2I.toString(), "--settings", "float,viditq-w3a3",
                "--out", out.toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("unknown setting 'viditq-w3a3'"), unknown.err());
        CliRun twice = run("sweep", "--model", EvalCommandTest.T2I.toString(), "--settings", "float,float",
                "--out", out.toString());
        assertEquals(1, twice.code());
        assertTrue(twice.err().contains("'float' is given twice"), twice.err());
        CliRun missing = run("sweep", "--model", tmp.resolve("nope").toString(), "--out", out.toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no such model folder"), missing.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void reportWithoutRunsIsRefused(@TempDir Path tmp) {
        CliRun r = run("report", "--runs", tmp.toString(), "--out", tmp.resolve("r.html").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("summary.json"), r.err());
        assertFalse(Files.exists(tmp.resolve("r.html")));
    }
}
