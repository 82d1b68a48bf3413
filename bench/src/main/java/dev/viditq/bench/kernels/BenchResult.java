package dev.viditq.bench.kernels;

/**
 * One measured figure: {@code value} in {@code unit} (GFLOP/s, GOP/s, GB/s) for a kernel at a shape and thread
 * count, next to the machine's {@code ceiling} for that kind of work measured in the same run, and their ratio.
 * Shape fields a kernel does not have are 0 (element-wise kernels: m = rows, n = row length, k = 0).
 */
public record BenchResult(String kernel, long m, long n, long k, int threads, double value, String unit,
                          double ceiling, double ratio) {
    public static BenchResult of(String kernel, long m, long n, long k, int threads, double value, String unit, double ceiling) {
        return new BenchResult(kernel, m, n, k, threads, value, unit, ceiling, ceiling > 0 ? value / ceiling : 0);
    }
}
