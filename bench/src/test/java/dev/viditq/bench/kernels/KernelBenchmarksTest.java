package dev.viditq.bench.kernels;

import dev.viditq.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harness runs every registered benchmark (quick sizes) and reports sane rows; figures are not checked. */
class KernelBenchmarksTest {
    @Test
    void builtInBenchmarksAreFoundThroughTheServiceLoader() {
        Set<String> names = KernelBenchmarks.all().stream().map(KernelBenchmark::name).collect(Collectors.toSet());
        assertTrue(names.containsAll(Set.of("ceilings", "gemm", "attention", "conv2d", "elementwise")), names.toString());
    }

    @Test
    void quickRunReportsEveryKernelAtEveryThreadCount() {
        int before = Parallel.threads();
        List<BenchResult> streamed = new ArrayList<>();
        List<BenchResult> results = KernelBenchmarks.run(new BenchConfig(List.of(1, 2), true), List.of(), streamed::add);
        assertEquals(results, streamed);
        assertEquals(before, Parallel.threads(), "thread count restored");
        Set<String> kernels = results.stream().map(BenchResult::kernel).collect(Collectors.toSet());
        assertTrue(kernels.containsAll(Set.of("ceiling-fp32-fma", "gemm-f32", "gemm-bf16", "gemm-f16", "attention",
                "conv2d-3x3", "layerNorm", "softmax", "fork-join", "layerNorm-step")), kernels.toString());
        for (BenchResult r : results) {
            assertTrue(r.value() > 0 && Double.isFinite(r.value()), r.toString());
            // a paired speed-up (matrix engines) or a latency (the pool's hand-off), not a rate against a ceiling
            if (r.unit().equals("x") || r.unit().equals("us")) continue;
            assertTrue(r.ceiling() > 0, r.toString());
            assertEquals(r.value() / r.ceiling(), r.ratio(), 1e-9, r.toString());
            assertTrue(r.threads() == 1 || r.threads() == 2, r.toString());
        }
        assertEquals(2, results.stream().filter(r -> r.kernel().equals("gemm-bf16")).count());
    }

    @Test
    void onlyRunsTheNamedBenchmarks() {
        List<BenchResult> results = KernelBenchmarks.run(new BenchConfig(List.of(1), true), List.of("attention"), r -> {});
        assertEquals(Set.of("attention"), results.stream().map(BenchResult::kernel).collect(Collectors.toSet()));
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, BenchConfig.median(new double[]{3, 1, 2}));
        assertEquals(2.5, BenchConfig.median(new double[]{4, 1, 3, 2}));
    }
}
