package dev.viditq.core.cuda;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The committed fatbin was built from the committed kernel source (native/cuda/build-fatbin records its hash). */
class CudaFatbinTest {
    @Test
    void fatbinMatchesItsSource() throws Exception {
        Path source = Path.of("..", "native", "cuda", "viditq_kernels.cu");
        assertTrue(Files.isRegularFile(source), "kernel source missing: " + source.toAbsolutePath());
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(source)));
        String recorded;
        try (InputStream in = CudaFatbinTest.class.getResourceAsStream(CudaDevice.FATBIN + ".source")) {
            assertNotNull(in, "no recorded source hash beside the fatbin");
            recorded = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\s+")[0];
        }
        assertEquals(recorded, sha, "native/cuda/viditq_kernels.cu changed since the fatbin was built: run native/cuda/build-fatbin");
    }

    @Test
    void fatbinIsAFatbin() throws Exception {
        try (InputStream in = CudaFatbinTest.class.getResourceAsStream(CudaDevice.FATBIN)) {
            assertNotNull(in, "fatbin resource missing");
            byte[] head = in.readNBytes(4);
            // fatbin magic 0xBA55ED50, little-endian
            assertEquals(0x50, head[0] & 0xFF);
            assertEquals(0xED, head[1] & 0xFF);
            assertEquals(0x55, head[2] & 0xFF);
            assertEquals(0xBA, head[3] & 0xFF);
        }
    }
}
