package dev.viditq.cli;

import dev.viditq.core.cuda.Cuda;
import dev.viditq.core.kernels.KernelBackend;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --device} on any command: a bad value or a missing GPU is a usage error that says why; info reports CUDA. */
class DeviceOptionTest {
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
    void unknownDeviceIsAClearError() {
        Run r = run("info", "--device", "tpu");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--device must be cpu or cuda, is tpu"), r.err());
    }

    @Test
    void cudaWithoutAGpuSaysWhyAndCudaWithOneAppliesToItsCallOnly() {
        Optional<String> reason = Cuda.unavailableReason();
        Run r = run("info", "--json", "--device", "cuda");
        if (reason.isPresent()) {
            assertEquals(2, r.status(), r.err());
            assertTrue(r.err().contains("--device cuda: " + reason.get()), r.err());
        } else {
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains("\"float_kernels\" : \"cuda "), r.out());
            assertFalse(KernelBackend.get().name().startsWith("cuda"), "the CPU kernels again after the call");
        }
        assertTrue(Cuda.session().isEmpty(), "no GPU session left behind");
    }

    @Test
    void infoReportsTheCudaLibraries() {
        Run r = run("info", "--json");
        assertEquals(0, r.status(), r.err());
        for (String key : new String[]{"\"cuda_driver\"", "\"cublaslt\"", "\"nvrtc\"", "\"cuda\""}) {
            assertTrue(r.out().contains(key), key + " in " + r.out());
        }
    }
}
