package dev.viditq.bench.kernels;

import java.util.List;

/**
 * One family of kernel measurements for {@code ./viditq bench kernels}. To add one: implement this interface
 * (a public no-argument constructor) and list the class in
 * {@code META-INF/services/dev.viditq.bench.kernels.KernelBenchmark} of its module; {@link KernelBenchmarks}
 * finds it with {@link java.util.ServiceLoader}. Time with {@link BenchConfig#secondsAndCeiling} (warm-up, median,
 * and a ceiling sampled between the kernel's samples, e.g. {@link Ceilings#fp32FmaSample}) or
 * {@link BenchConfig#seconds}; share a once-per-run ceiling with {@link BenchConfig#ceiling}.
 */
public interface KernelBenchmark {
    /** Short name, used by {@code --only} filters and in progress messages. */
    String name();

    /** Measures every shape at every thread count of {@code config.threads()}; small shapes when {@code quick}. */
    List<BenchResult> run(BenchConfig config);
}
