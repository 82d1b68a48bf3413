package dev.viditq.nn.parity;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;

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
     * Case folders under {@code root}, at any depth: directories holding an io.safetensors (a group of cases such as
     * {@code schedulers/rflow} nests them).
     */
    public static List<Path> caseDirs(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new IOException(root + ": not a directory of golden cases");
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(d -> !d.equals(root) && Files.isDirectory(d))
                    .filter(d -> Files.exists(d.resolve("io.safetensors")))
                    .sorted().toList();
        }
    }

    /**
     * The case name of a folder: the longest handler name its path ends with ({@code schedulers/rflow} for
     * .../golden_next/schedulers/rflow), else the folder's own name.
     */
    public static String caseName(Path dir) {
        return handlers().keySet().stream()
                .filter(name -> dir.endsWith(Path.of(name)))
                .max(Comparator.comparingInt(name -> Path.of(name).getNameCount()))
                .orElse(dir.getFileName().toString());
    }

    /**
     * Runs one case folder; a folder with no handler or a handler that throws yields an error result. Always in
     * FP32 ({@link Precision#FP32}), whatever the process computes in: the official outputs are FP32 and the
     * tolerances are set for it.
     */
    public static List<Result> runCase(Path dir) {
        return KernelBackend.withPrecision(Precision.FP32, () -> runCaseInFp32(dir));
    }

    private static List<Result> runCaseInFp32(Path dir) {
        String name = caseName(dir);
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
        for (Path d : caseDirs(root)) all.addAll(runCase(d));
        return all;
    }
}
