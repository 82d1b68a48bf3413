package dev.viditq.core.testing;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A missing shared folder skips a test on a developer's checkout and fails it under CI=true. */
class GoldenFolderTest {
    @Test
    void missingCasesSkipLocallyAndFailUnderCi() {
        assertThrows(TestAbortedException.class, () -> GoldenFolder.missing("x is missing", false));
        assertTrue(assertThrows(AssertionFailedError.class, () -> GoldenFolder.missing("x is missing", true)).getMessage().contains("CI=true"));
        assertTrue(GoldenFolder.underCi("true") && GoldenFolder.underCi("TRUE"));
        assertFalse(GoldenFolder.underCi(null) || GoldenFolder.underCi("false") || GoldenFolder.underCi(""));
    }

    @Test
    void aFolderIsFoundByItsOwnPropertyElseBesideTheGoldenFolder() {
        String golden = System.getProperty("viditq.golden"), next = System.getProperty("viditq.golden_next");
        try {
            System.setProperty("viditq.golden", "/cases/shared/golden");
            System.clearProperty("viditq.golden_next");
            assertEquals(Path.of("/cases/shared/golden_next"), GoldenFolder.named("golden_next").location());
            System.setProperty("viditq.golden_next", "/elsewhere/next");
            assertEquals(Path.of("/elsewhere/next"), GoldenFolder.named("golden_next").location());
        } finally {
            restore("viditq.golden", golden);
            restore("viditq.golden_next", next);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }
}
