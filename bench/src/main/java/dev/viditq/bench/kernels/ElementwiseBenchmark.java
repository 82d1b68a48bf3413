package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory-bound kernels on an activation of 16384 × 1152 floats (75 MB, beyond the caches):
 * GB/s counts each input read once and each output written once, against the copy bandwidth ceiling.
 */
public final class ElementwiseBenchmark implements KernelBenchmark {
    private interface Op {
        void run(Kernels k, MemorySegment a, MemorySegment b, MemorySegment out, int rows, int cols);
    }

    /**
     * @param activation in-place activations run over and over on the same buffer, so their input is taken in
     *                   [20, 30) where gelu and silu are the identity to float precision: the values neither decay
     *                   into subnormals (which would slow the loop down) nor grow. The arithmetic is branch-free,
     *                   so timing does not depend on the values.
     */
    private record Case(String name, int streams, boolean activation, Op op) {}

    private static final List<Case> CASES = List.of(
            new Case("layerNorm", 2, false, (k, a, b, out, rows, cols) -> k.layerNorm(a, rows, cols, b, b, 1e-6f, out)),
            new Case("rmsNorm", 2, false, (k, a, b, out, rows, cols) -> k.rmsNorm(a, rows, cols, b, 1e-6f, out)),
            new Case("softmax", 2, false, (k, a, b, out, rows, cols) -> k.softmax(out, rows, cols)),
            new Case("geluTanh", 2, true, (k, a, b, out, rows, cols) -> k.geluTanh(out, (long) rows * cols)),
            new Case("geluErf", 2, true, (k, a, b, out, rows, cols) -> k.geluErf(out, (long) rows * cols)),
            new Case("silu", 2, true, (k, a, b, out, rows, cols) -> k.silu(out, (long) rows * cols)),
            new Case("add", 3, false, (k, a, b, out, rows, cols) -> k.add(a, out, out, (long) rows * cols)));

    @Override
    public String name() {
        return "elementwise";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        int rows = config.quick() ? 2 : 16384, cols = config.quick() ? 40 : 1152;
        long n = (long) rows * cols;
        MemorySegment a = BenchData.floats(n, 11), out = BenchData.floats(n, 12);
        MemorySegment b = BenchData.floats(cols, 13), large = BenchData.floats(n, 14);
        for (long i = 0; i < n; i++) large.setAtIndex(Tensor.F32_LE, i, 25 + 5 * large.getAtIndex(Tensor.F32_LE, i));
        Kernels kernels = KernelBackend.get();
        List<BenchResult> results = new ArrayList<>();
        for (Case c : CASES) {
            for (int t : config.threads()) {
                config.useThreads(t);
                out.copyFrom(c.activation() ? large : a);
                int threads = t;
                BenchConfig.Measured r = config.secondsAndCeiling(() -> c.op().run(kernels, a, b, out, rows, cols),
                        () -> Ceilings.copySample(config, threads));
                double gbs = (double) c.streams() * n * Float.BYTES / r.seconds() / 1e9;
                results.add(BenchResult.of(c.name(), rows, cols, 0, t, gbs, "GB/s", r.ceiling()));
            }
        }
        return results;
    }
}
