package dev.viditq.cli;

import dev.viditq.core.cuda.Cuda;
import dev.viditq.core.kernels.KernelBackend;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --device} on any command: a bad value or a missing GPU is a usage error that says why; info reports CUDA. */
class DeviceOptionTest {
    @Test
    void unknownDeviceIsAClearError() {
        CliRun r = CliRun.run("info", "--device", "tpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--device must be cpu or cuda, is tpu"), r.err());
    }

    @Test
    void cudaWithoutAGpuSaysWhyAndCudaWithOneAppliesToItsCallOnly() {
        Optional<String> reason = Cuda.unavailableReason();
        CliRun r = CliRun.run("info", "--json", "--device", "cuda");
        if (reason.isPresent()) {
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--device cuda: " + reason.get()), r.err());
        } else {
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("\"float_kernels\" : \"cuda "), r.out());
            assertFalse(KernelBackend.get().name().startsWith("cuda"), "the CPU kernels again after the call");
        }
        assertTrue(Cuda.session().isEmpty(), "no GPU session left behind");
    }

    @Test
    void infoReportsTheCudaLibraries() {
        CliRun r = CliRun.run("info", "--json");
        assertEquals(0, r.code(), r.err());
        for (String key : new String[]{"\"cuda_driver\"", "\"cublaslt\"", "\"nvrtc\"", "\"cuda\""}) {
            assertTrue(r.out().contains(key), key + " in " + r.out());
        }
    }
}
