package dev.viditq.nn.models;

import dev.viditq.nn.GoldenFolders;
import dev.viditq.nn.models.golden.WanTransformerGoldenCase;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class WanTransformerTest {
    @Test
    void goldenT2vMatches() throws Exception {
        check(new WanTransformerGoldenCase(), GoldenFolders.wan().resolve("wan_transformer"));
    }

    @Test
    void goldenI2vMatches() throws Exception {
        check(new WanTransformerGoldenCase.I2v(), GoldenFolders.wan().resolve("wan_transformer_i2v"));
    }

    private static void check(GoldenCase handler, Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(dir), "no golden " + dir.toAbsolutePath());
        for (GoldenCase.Comparison c : handler.run(dir)) {
            System.out.println(dir.getFileName() + "/" + c.output() + " rel err " + c.relErr());
            assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
        }
    }
}
