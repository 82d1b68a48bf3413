package dev.viditq.nn.parity;

import dev.viditq.nn.GoldenFolders;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every case folder under -Dviditq.golden (default ../shared/golden), -Dviditq.golden.next (default
 * ../shared/golden_next, the Open-Sora 1.2 cases) and the Wan set ({@link GoldenFolders#wan()}) against the official
 * outputs. Data-driven: the folders and their sizes come from the directory, so another set of cases runs unchanged.
 */
class GoldenParityTest {
    @TestFactory
    Stream<DynamicTest> everyGoldenCase() throws Exception {
        return cases(Path.of(System.getProperty("viditq.golden", "../shared/golden")));
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenNextCase() throws Exception {
        return cases(Path.of(System.getProperty("viditq.golden.next", "../shared/golden_next")));
    }

    @TestFactory
    Stream<DynamicTest> everyWanGoldenCase() throws Exception {
        return cases(GoldenFolders.wan());
    }

    private static Stream<DynamicTest> cases(Path root) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(root), "no golden directory at " + root.toAbsolutePath());
        List<Path> dirs = Parity.caseDirs(root);
        assertTrue(!dirs.isEmpty(), "no case folders under " + root);
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(root.relativize(dir).toString(), () -> {
            for (Parity.Result r : Parity.runCase(dir)) {
                assertTrue(r.pass(), () -> r.caseName() + "/" + r.output() + ": "
                        + (r.error() != null ? r.error() : "rel_err " + r.relErr() + " > " + r.tolerance()));
            }
        }));
    }
}
