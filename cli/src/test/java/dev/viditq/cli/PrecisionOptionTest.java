package dev.viditq.cli;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --precision} on any command: applies to that call only, and a bad value is a usage error that names it. */
class PrecisionOptionTest {
    @Test
    void appliesToItsCallOnly() {
        Precision before = KernelBackend.precision();
        Precision other = before == Precision.BF16 ? Precision.FP32 : Precision.BF16;
        CliRun r = CliRun.run("info", "--json", "--precision", other.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"precision\" : \"" + other + "\""), r.out());
        assertEquals(before, KernelBackend.precision(), "restored after the call");
    }

    @Test
    void unknownValueIsAClearError() {
        CliRun r = CliRun.run("info", "--precision", "fp16");
        assertEquals(2, r.code(), "a usage error, as picocli reports bad option values: " + r.err());
        assertTrue(r.err().contains("unknown precision 'fp16' (fp32, bf16 or auto)"), r.err());
    }
}
