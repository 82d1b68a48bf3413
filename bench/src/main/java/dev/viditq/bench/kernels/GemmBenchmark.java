package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.Precision;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * out = x·Wᵀ + bias with F32 activations and F32 / BF16 / F16 weights, at DiT-XL shapes: M = 1024 tokens
 * (a 256×256 image), K = 1152, N = 1152 (attention projections) and 4608 (MLP). GFLOP/s = 2·M·N·K / time,
 * against the FP32 FMA ceiling.
 */
public final class GemmBenchmark implements KernelBenchmark {
    @Override
    public String name() {
        return "gemm";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        int m = config.quick() ? 9 : 1024, k = config.quick() ? 20 : 1152;
        int[] ns = config.quick() ? new int[]{50} : new int[]{1152, 4608};
        // the FP32 kernels, against the FMA ceiling; the bf16 path and its units: MatrixEngineBenchmark (bench module)
        Kernels kernels = KernelBackend.withPrecision(Precision.FP32, KernelBackend::get);
        List<BenchResult> out = new ArrayList<>();
        MemorySegment x = BenchData.floats((long) m * k, 1);
        for (int n : ns) {
            MemorySegment bias = BenchData.floats(n, 2), y = BenchData.floats((long) m * n, 3);
            for (DType dtype : new DType[]{DType.F32, DType.BF16, DType.F16}) {
                Tensor w = BenchData.tensor(dtype, 4, n, k);
                for (int t : config.threads()) {
                    config.useThreads(t);
                    int threads = t;
                    BenchConfig.Measured r = config.secondsAndCeiling(() -> kernels.gemm(x, m, k, w, bias, y),
                            () -> Ceilings.fp32FmaSample(config, threads));
                    double gflops = 2.0 * m * n * k / r.seconds() / 1e9;
                    out.add(BenchResult.of("gemm-" + dtype.name().toLowerCase(), m, n, k, t, gflops, "GFLOP/s", r.ceiling()));
                }
            }
        }
        return out;
    }
}
