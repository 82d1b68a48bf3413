package dev.viditq.nn.parity;

import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every case folder under -Dviditq.golden (default ../shared/golden) against the official outputs.
 * Data-driven: the folders and their sizes come from the directory, so another set of cases runs unchanged.
 */
class GoldenParityTest {
    @TestFactory
    Stream<DynamicTest> everyGoldenCase() throws Exception {
        Path root = GoldenFolder.GOLDEN.root();
        List<Path> dirs = Parity.caseDirs(root);
        assertTrue(!dirs.isEmpty(), "no case folders under " + root);
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            for (Parity.Result r : Parity.runCase(dir)) {
                assertTrue(r.pass(), () -> r.caseName() + "/" + r.output() + ": "
                        + (r.error() != null ? r.error() : "rel_err " + r.relErr() + " > " + r.tolerance()));
            }
        }));
    }
}
