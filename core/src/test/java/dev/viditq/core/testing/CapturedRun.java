package dev.viditq.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * Runs an in-process command with System.out and System.err captured (and restored afterwards): the harness under
 * the command tests of every module that runs {@code Main.execute}.
 */
public record CapturedRun(int code, String out, String err) {
    public static CapturedRun of(IntSupplier command) {
        PrintStream stdout = System.out, stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = command.getAsInt();
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        return new CapturedRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
