package dev.viditq.bench.kernels;

import java.util.ArrayList;
import java.util.List;

/** Reports the ceilings themselves (ratio 1), so a table shows what the other rows are divided by. */
public final class FmaCeilingBenchmark implements KernelBenchmark {
    @Override
    public String name() {
        return "ceilings";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        List<BenchResult> out = new ArrayList<>();
        for (int t : config.threads()) {
            double fma = Ceilings.fp32Fma(config, t);
            out.add(BenchResult.of("ceiling-fp32-fma", 0, 0, 0, t, fma, "GFLOP/s", fma));
        }
        for (int t : config.threads()) {
            double copy = Ceilings.copyBandwidth(config, t);
            out.add(BenchResult.of("ceiling-copy", 0, 0, 0, t, copy, "GB/s", copy));
        }
        return out;
    }
}
