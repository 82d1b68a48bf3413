package dev.viditq.cli;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code viditq forward} on golden folders: the written 'out' must match the official output. */
class ForwardCommandTest {

    @TempDir
    Path tmp;

    private static Path caseDir(String name) {
        return GoldenFolder.GOLDEN.resolve(name);
    }

    private void assertWrittenMatches(Path dir, Path written, String expected) {
        try (Safetensors ours = Safetensors.open(written); Safetensors io = Safetensors.open(dir.resolve("io.safetensors"))) {
            assertArrayEquals(io.get(expected).shape(), ours.get("out").shape(), "output shape");
            double err = GoldenCase.relErr(ours.get("out").toFloatArray(), io.get(expected).toFloatArray());
            assertTrue(err < 1e-4, "rel_err " + err);
        }
    }

    @Test
    void forwardOnTextToVideoGoldenWritesTheOfficialOutput() {
        Path dir = caseDir("stdit_v1");
        Path out = tmp.resolve("out.safetensors");
        int rc = Main.execute("forward", "--model", dir.toString(), "--inputs", dir.resolve("io.safetensors").toString(),
                "--out", out.toString(), "--expect", "out");
        assertEquals(0, rc);
        assertWrittenMatches(dir, out, "out");
    }

    @Test
    void expectComparesInFp32UnlessThePrecisionIsNamed() {
        // auto is bf16 on CPUs with AMX-BF16 or AVX512-BF16, whose 1e-3 error would fail the 1e-4 comparison
        Path dir = caseDir("pixart_original");
        Path out = tmp.resolve("auto.safetensors");
        int rc = Main.execute("forward", "--precision", "auto", "--model", dir.toString(), "--inputs",
                dir.resolve("io.safetensors").toString(), "--out", out.toString(), "--expect", "out");
        assertEquals(0, rc);
        assertWrittenMatches(dir, out, "out");
    }

    @Test
    void forwardOnTheWanGoldensTextToVideoAndImageToVideo() {
        for (String name : new String[]{"wan_transformer", "wan_transformer_i2v"}) {
            Path dir = GoldenFolder.named("golden_wan").resolve(name);
            Path out = tmp.resolve(name + ".safetensors");
            // the I2V inputs carry encoder_hidden_states_image, the CLIP states its added key/value branch attends to
            int rc = Main.execute("forward", "--precision", "fp32", "--model", dir.toString(), "--inputs",
                    dir.resolve("io.safetensors").toString(), "--out", out.toString(), "--expect", "out");
            assertEquals(0, rc, name);
            assertWrittenMatches(dir, out, "out");
        }
    }

    @Test
    void cfgWithPrefixReproducesForwardWithCfg() {
        Path dir = caseDir("dit");
        Path out = tmp.resolve("cfg.safetensors");
        int rc = Main.execute("forward", "--model", dir.toString(), "--inputs", dir.resolve("io.safetensors").toString(),
                "--out", out.toString(), "--prefix", "cfg_", "--cfg");
        assertEquals(0, rc);
        assertWrittenMatches(dir, out, "cfg_out");
    }

    @Test
    void failsWhenTheExpectedTensorDiffers() {
        Path dir = caseDir("dit");
        // the CFG output is not what a plain forward gives: --expect must report the mismatch with exit code 1
        int rc = Main.execute("forward", "--model", dir.toString(), "--inputs", dir.resolve("io.safetensors").toString(),
                "--out", tmp.resolve("o.safetensors").toString(), "--prefix", "cfg_", "--expect", "cfg_out");
        assertEquals(1, rc);
    }

    @Test
    void missingInputIsOneClearError() {
        Path dir = caseDir("dit");
        CliRun r = CliRun.run("forward", "--model", dir.toString(), "--inputs", dir.resolve("io.safetensors").toString(),
                "--out", tmp.resolve("o.safetensors").toString(), "--prefix", "nope_");
        assertEquals(1, r.code());
        String message = r.err();
        assertTrue(message.contains("nope_x"), message);
        assertEquals(1, message.strip().lines().count(), "one line: " + message);
        assertFalse(Files.exists(tmp.resolve("o.safetensors")), "nothing written on error");
    }
}
