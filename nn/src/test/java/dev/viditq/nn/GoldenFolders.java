package dev.viditq.nn;

import java.nio.file.Path;

/** Where the golden case sets are: -Dviditq.golden (the first set), and the Wan set beside it unless -Dviditq.golden.wan says. */
public final class GoldenFolders {
    private GoldenFolders() {}

    public static Path wan() {
        String own = System.getProperty("viditq.golden.wan");
        if (own != null) return Path.of(own);
        return Path.of(System.getProperty("viditq.golden", "../shared/golden")).resolveSibling("golden_wan");
    }
}
