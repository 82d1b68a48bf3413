package dev.viditq.cli;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --precision} on any command: applies to that call only, and a bad value is a usage error that names it. */
class PrecisionOptionTest {
    private record Run(int status, String out, String err) {}

    private static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Main.execute(args);
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void appliesToItsCallOnly() {
        Precision before = KernelBackend.precision();
        Precision other = before == Precision.BF16 ? Precision.FP32 : Precision.BF16;
        Run r = run("info", "--json", "--precision", other.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("\"precision\" : \"" + other + "\""), r.out());
        assertEquals(before, KernelBackend.precision(), "restored after the call");
    }

    @Test
    void unknownValueIsAClearError() {
        Run r = run("info", "--precision", "fp16");
        assertEquals(2, r.status(), "a usage error, as picocli reports bad option values: " + r.err());
        assertTrue(r.err().contains("unknown precision 'fp16' (fp32, bf16 or auto)"), r.err());
    }
}
