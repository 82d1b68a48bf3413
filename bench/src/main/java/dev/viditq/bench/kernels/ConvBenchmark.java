package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Two convolutions: the DiT patch embedding (4 latent channels → 1152, 2×2 kernel, stride 2, 64×64 latent) and
 * a VAE-decoder 3×3 convolution (128 → 128 channels, 64×64, padding 1). GFLOP/s = 2·cout·pixels·cin·kh·kw / time,
 * reported as m = cout, n = output pixels, k = cin·kh·kw.
 */
public final class ConvBenchmark implements KernelBenchmark {
    private record Case(String name, int cin, int size, int cout, int kernel, int stride, int padding) {}

    @Override
    public String name() {
        return "conv2d";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        List<Case> cases = config.quick()
                ? List.of(new Case("conv2d-patch2", 2, 4, 8, 2, 2, 0), new Case("conv2d-3x3", 2, 4, 8, 3, 1, 1))
                : List.of(new Case("conv2d-patch2", 4, 64, 1152, 2, 2, 0), new Case("conv2d-3x3", 128, 64, 128, 3, 1, 1));
        Kernels kernels = KernelBackend.get();
        List<BenchResult> results = new ArrayList<>();
        for (Case c : cases) {
            int outSize = (c.size() + 2 * c.padding() - c.kernel()) / c.stride() + 1;
            long pixels = (long) outSize * outSize, depth = (long) c.cin() * c.kernel() * c.kernel();
            MemorySegment x = BenchData.floats((long) c.cin() * c.size() * c.size(), 7);
            Tensor w = BenchData.tensor(DType.F32, 8, c.cout(), c.cin(), c.kernel(), c.kernel());
            MemorySegment bias = BenchData.floats(c.cout(), 9), out = BenchData.floats(c.cout() * pixels, 10);
            for (int t : config.threads()) {
                config.useThreads(t);
                int threads = t;
                BenchConfig.Measured r = config.secondsAndCeiling(() -> kernels.conv2d(x, c.cin(), c.size(), c.size(),
                        w, bias, c.stride(), c.padding(), out), () -> Ceilings.fp32FmaSample(config, threads));
                double gflops = 2.0 * c.cout() * pixels * depth / r.seconds() / 1e9;
                results.add(BenchResult.of(c.name(), c.cout(), pixels, depth, t, gflops, "GFLOP/s", r.ceiling()));
            }
        }
        return results;
    }
}
