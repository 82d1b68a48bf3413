package dev.viditq.nn.parity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Stream;

/**
 * Runs every golden case folder found under a directory with the handler registered for its name.
 * Handlers are found with {@link ServiceLoader} (META-INF/services/dev.viditq.nn.parity.GoldenCase), so a new
 * family adds a class and a line, nothing here.
 */
public final class Parity {
    /** The outcome of one output of one case; {@code error} is set when the case could not run at all. */
    public record Result(String caseName, String output, double relErr, double tolerance, String error) {
        public boolean pass() {
            return error == null && relErr <= tolerance;
        }
    }

    private Parity() {}

    public static Map<String, GoldenCase> handlers() {
        Map<String, GoldenCase> map = new TreeMap<>();
        for (GoldenCase c : ServiceLoader.load(GoldenCase.class)) map.put(c.folderName(), c);
        return map;
    }

    /**
     * Case folders under {@code root}: subdirectories holding an io.safetensors, and those one level down in a
     * subdirectory that holds none itself (a group such as {@code schedulers/NAME}).
     */
    public static List<Path> caseDirs(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new IOException(root + ": not a directory of golden cases");
        List<Path> cases = new ArrayList<>();
        for (Path d : subdirectories(root)) {
            if (isCase(d)) cases.add(d);
            else for (Path nested : subdirectories(d)) if (isCase(nested)) cases.add(nested);
        }
        return cases;
    }

    /** The name a handler answers to: the case folder's path under {@code root}, '/'-separated ({@code schedulers/rflow}). */
    public static String caseName(Path root, Path dir) {
        Path rel = root.relativize(dir);
        StringJoiner name = new StringJoiner("/");
        for (Path part : rel) name.add(part.toString());
        return name.toString();
    }

    private static boolean isCase(Path dir) {
        return Files.exists(dir.resolve("io.safetensors"));
    }

    private static List<Path> subdirectories(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    /** Runs one top-level case folder, named by its folder name. */
    public static List<Result> runCase(Path dir) {
        return runCase(dir.getFileName().toString(), dir);
    }

    /** Runs a case folder found under {@code root}, named by {@link #caseName}. */
    public static List<Result> runCase(Path root, Path dir) {
        return runCase(caseName(root, dir), dir);
    }

    /** Runs one case folder; a folder with no handler or a handler that throws yields an error result. */
    private static List<Result> runCase(String name, Path dir) {
        GoldenCase handler = handlers().get(name);
        if (handler == null) return List.of(new Result(name, "-", Double.NaN, 0, "no handler for case '" + name + "'"));
        try {
            List<Result> out = new ArrayList<>();
            for (GoldenCase.Comparison c : handler.run(dir)) {
                out.add(new Result(name, c.output(), c.relErr(), handler.tolerance(), null));
            }
            if (out.isEmpty()) out.add(new Result(name, "-", Double.NaN, 0, "handler compared no output"));
            return out;
        } catch (Exception | AssertionError e) {
            return List.of(new Result(name, "-", Double.NaN, handler.tolerance(), e.toString()));
        }
    }

    public static List<Result> runAll(Path root) throws IOException {
        List<Result> all = new ArrayList<>();
        for (Path d : caseDirs(root)) all.addAll(runCase(root, d));
        return all;
    }
}
