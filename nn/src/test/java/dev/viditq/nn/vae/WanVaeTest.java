package dev.viditq.nn.vae;

import dev.viditq.nn.GoldenFolders;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class WanVaeTest {
    private static final Path GOLDEN = GoldenFolders.wan().resolve("wan_vae");

    @Test
    void goldenCaseMatches() {
        Assumptions.assumeTrue(Files.isDirectory(GOLDEN), "no golden wan_vae case");
        for (GoldenCase.Comparison c : new WanVaeGolden().run(GOLDEN)) {
            System.out.println("wan_vae/" + c.output() + " rel err " + c.relErr());
            assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
        }
    }
}
