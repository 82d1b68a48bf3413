package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.quant.NativeIntKernels;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The int8 entries are registered with the kernel benchmark harness and run (quick sizes; figures unchecked). */
class IntKernelBenchmarkTest {
    @Test
    void quickRunReportsEveryIntegerKernel() {
        List<BenchResult> results = KernelBenchmarks.run(new BenchConfig(List.of(1), true), List.of("int8"), r -> {});
        Set<String> kernels = results.stream().map(BenchResult::kernel).collect(Collectors.toSet());
        assertTrue(kernels.containsAll(Set.of("w8a8+quant", "w8a8+quant+rot", "w4a8+quant", "w4a8-g128+quant", "w8a8",
                "w4a8", "w8a8+gelu/pass", "quantize", "quantize-rot144")), kernels.toString());
        if (!NativeIntKernels.supportedIsas().isEmpty()) {
            assertTrue(kernels.contains("java:w8a8+quant"), kernels.toString());
            if (NativeIntKernels.supportedIsas().contains("avx512-vnni")) assertTrue(kernels.contains("ceiling-int8-vnni"));
        }
        // rates against a ceiling; ratios of two timings (unit "x") have none
        for (BenchResult r : results) assertTrue(r.value() > 0 && (r.ceiling() > 0 || r.unit().equals("x")), r.toString());
    }
}
