package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.Precision;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Self-attention of one sequence, 4096 tokens (a 512×512 image at patch 2, or a short video), 16 heads × 72
 * (PixArt / DiT-XL width 1152), q/k/v read in place from a fused qkv buffer (row stride 3·1152).
 * GFLOP/s counts 4·lq·lk·headDim per head (q·kᵀ and p·v), against the FP32 FMA ceiling.
 * Reported as m = lq, n = lk, k = heads × headDim.
 */
public final class AttentionBenchmark implements KernelBenchmark {
    @Override
    public String name() {
        return "attention";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        int tokens = config.quick() ? 20 : 4096, heads = config.quick() ? 2 : 16, headDim = config.quick() ? 8 : 72;
        int width = heads * headDim, stride = 3 * width;
        MemorySegment qkv = BenchData.floats((long) tokens * stride, 5);
        MemorySegment q = qkv, k = qkv.asSlice((long) width * Float.BYTES), v = qkv.asSlice(2L * width * Float.BYTES);
        MemorySegment out = BenchData.floats((long) tokens * width, 6);
        float scale = (float) (1 / Math.sqrt(headDim));
        // the FP32 kernels, against the FMA ceiling; the bf16 path and its units: MatrixEngineBenchmark (bench module)
        Kernels kernels = KernelBackend.withPrecision(Precision.FP32, KernelBackend::get);
        List<BenchResult> results = new ArrayList<>();
        for (int t : config.threads()) {
            config.useThreads(t);
            int threads = t;
            BenchConfig.Measured r = config.secondsAndCeiling(() -> kernels.attention(q, stride, k, stride, v, stride,
                    out, width, tokens, tokens, heads, headDim, scale, AttentionBias.NONE),
                    () -> Ceilings.fp32FmaSample(config, threads));
            double gflops = 4.0 * tokens * tokens * headDim * heads / r.seconds() / 1e9;
            results.add(BenchResult.of("attention", tokens, tokens, width, t, gflops, "GFLOP/s", r.ceiling()));
        }
        return results;
    }
}
