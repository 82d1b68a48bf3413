package dev.viditq.core.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A folder of shared reference cases — {@code ../shared/golden}, and siblings such as {@code ../shared/golden_next} —
 * as the tests of every module see it (core's test jar). A test takes what it needs through {@link #root()} or
 * {@link #resolve}: when it is missing, the test is skipped on a checkout without the shared cases, but fails when
 * the environment says {@code CI=true}, so that a CI machine that lost the cases cannot pass by running nothing.
 *
 * <p>Where a folder {@code name} is: {@code -Dviditq.<name>} when set (the build sets {@code -Dviditq.golden} to the
 * checkout's {@code ../shared/golden}); else the sibling {@code name} of that golden folder; else
 * {@code ../shared/<name>} from the working directory.
 */
public final class GoldenFolder {
    /** The golden cases from the official code: {@code ../shared/golden}. */
    public static final GoldenFolder GOLDEN = named("golden");

    private final String name;
    private final Path root;

    private GoldenFolder(String name, Path root) {
        this.name = name;
        this.root = root;
    }

    /** The shared folder {@code name} (e.g. "golden_next", "golden_wan"), located as the class comment says. */
    public static GoldenFolder named(String name) {
        String own = System.getProperty("viditq." + name);
        if (own != null) return new GoldenFolder(name, Path.of(own));
        String golden = System.getProperty("viditq.golden");
        if (golden != null) return new GoldenFolder(name, Path.of(golden).resolveSibling(name));
        return new GoldenFolder(name, Path.of("..", "shared", name));
    }

    public String name() {
        return name;
    }

    /** Where the folder is expected, whether or not it exists. */
    Path location() {
        return root;
    }

    /** The folder; skips the test when it is missing (fails it under CI=true). */
    public Path root() {
        require(root, "the shared folder " + name);
        return root;
    }

    /** A case folder or file inside; skips the test when it (or the folder) is missing (fails it under CI=true). */
    public Path resolve(String relative) {
        Path p = root.resolve(relative);
        require(p, "'" + relative + "' of the shared folder " + name);
        return p;
    }

    private static void require(Path p, String what) {
        if (!Files.exists(p)) missing(what + " is missing at " + p.toAbsolutePath().normalize(), underCi(System.getenv("CI")));
    }

    /** Skips the running test, or fails it under CI. */
    static void missing(String message, boolean ci) {
        if (ci) Assertions.fail(message + " (CI=true: the shared cases must be present; a skip would hide that nothing ran)");
        Assumptions.abort(message + " (skipped; under CI=true this fails)");
    }

    static boolean underCi(String ciVariable) {
        return ciVariable != null && ciVariable.equalsIgnoreCase("true");
    }
}
