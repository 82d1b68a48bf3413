package dev.viditq.bench.kernels;

import dev.viditq.core.parallel.Parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Finds every {@link KernelBenchmark} (ServiceLoader, in the order of the services files) and runs them.
 * This is what {@code ./viditq bench kernels} calls; tests call it with {@code quick}.
 */
public final class KernelBenchmarks {
    private KernelBenchmarks() {}

    public static List<KernelBenchmark> all() {
        List<KernelBenchmark> found = new ArrayList<>();
        ServiceLoader.load(KernelBenchmark.class, KernelBenchmarks.class.getClassLoader()).forEach(found::add);
        return found;
    }

    /**
     * Runs the benchmarks whose name is in {@code only} (all when empty), reporting each result to
     * {@code progress} as it comes; restores the thread count afterwards.
     */
    public static List<BenchResult> run(BenchConfig config, List<String> only, Consumer<BenchResult> progress) {
        int threadsBefore = Parallel.threads();
        List<BenchResult> results = new ArrayList<>();
        try {
            for (KernelBenchmark b : all()) {
                if (!only.isEmpty() && !only.contains(b.name())) continue;
                for (BenchResult r : b.run(config)) {
                    results.add(r);
                    progress.accept(r);
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
        return results;
    }

    /** A fixed-width text table of results, one line each, with a header. */
    public static String table(List<BenchResult> results) {
        StringBuilder sb = new StringBuilder(header()).append('\n');
        for (BenchResult r : results) sb.append(row(r)).append('\n');
        return sb.toString();
    }

    public static String header() {
        return String.format(Locale.ROOT, "%-18s %6s %6s %6s %7s %10s %-8s %10s %6s",
                "kernel", "m", "n", "k", "threads", "value", "unit", "ceiling", "ratio");
    }

    /** One result as a table row; a ratio of two timings (unit "x") with three decimals, as ratios to a ceiling. */
    public static String row(BenchResult r) {
        String value = r.unit().equals("x") ? "%10.3f" : "%10.1f";
        return String.format(Locale.ROOT, "%-18s %6d %6d %6d %7d " + value + " %-8s %10.1f %6.3f",
                r.kernel(), r.m(), r.n(), r.k(), r.threads(), r.value(), r.unit(), r.ceiling(), r.ratio());
    }
}
