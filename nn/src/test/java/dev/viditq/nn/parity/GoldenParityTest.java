package dev.viditq.nn.parity;

import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every case folder of the shared golden sets — {@code golden}, {@code golden_next} (Open-Sora 1.2) and
 * {@code golden_wan} (Wan 2.1), located by {@link GoldenFolder} — against the official outputs. Data-driven: the
 * folders and their sizes come from the directory, so another set of cases runs unchanged.
 */
class GoldenParityTest {
    @TestFactory
    Stream<DynamicTest> everyGoldenCase() throws Exception {
        return cases(GoldenFolder.GOLDEN.root());
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenNextCase() throws Exception {
        return cases(GoldenFolder.named("golden_next").root());
    }

    @TestFactory
    Stream<DynamicTest> everyWanGoldenCase() throws Exception {
        return cases(GoldenFolder.named("golden_wan").root());
    }

    private static Stream<DynamicTest> cases(Path root) throws Exception {
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
