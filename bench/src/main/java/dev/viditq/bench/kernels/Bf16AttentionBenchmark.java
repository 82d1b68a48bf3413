package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.Bf16Kernels;
import dev.viditq.core.kernels.JavaKernels;
import dev.viditq.core.kernels.quant.MatrixCeilings;
import dev.viditq.core.kernels.quant.NativeMatrix;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Attention in BF16 (q·kᵀ and p·v as bf16 products with FP32 accumulation, FP32 online softmax) on each matrix unit
 * present, against the FP32 flash attention on the same operands, at the models' shapes:
 * <ul>
 *   <li>Wan 2.1 1.3B at 768 tokens, 12 heads × 128: self-attention 768 × 768, cross-attention 768 × 512;</li>
 *   <li>PixArt-XL/2, 16 heads × 72: self-attention of 256 tokens (256 px) and 1024 tokens (512 px);</li>
 *   <li>STDiT-XL/2 16×256, its temporal attention: 16 frames per sequence, one sequence per patch position and head
 *   (256 × 16 = 4,096 heads of 72; a head's rows a whole row of all heads apart, as in the model), which the kernels
 *   attend without packing (few keys).</li>
 * </ul>
 * Rows per shape and thread count: {@code attn:fp32} and {@code attn:<unit>} in GFLOP/s (4·lq·lk·headDim per head,
 * the real head dimension; the FP32 row against the FMA ceiling, the BF16 row against its unit's register-loop
 * ceiling), and {@code attn:<unit>/fp32}, how many times faster BF16 runs than FP32 — paired: each round times a
 * batch of each back to back, so load from other processes hits both alike. m = lq, n = lk, k = heads × headDim.
 * q, k, v are read in place from a fused qkv buffer (row stride 3 · width) as the models do. Run by
 * {@code ./viditq bench kernels --only attention-bf16}; nothing is reported when no unit with BF16 runs here.
 */
public final class Bf16AttentionBenchmark implements KernelBenchmark {
    /** lq, lk, heads, headDim. */
    private static final int[][] SHAPES = {{768, 768, 12, 128}, {768, 512, 12, 128}, {256, 256, 16, 72}, {1024, 1024, 16, 72},
            {16, 16, 4096, 72}};
    private static final int[][] QUICK_SHAPES = {{40, 33, 2, 72}};

    @Override
    public String name() {
        return "attention-bf16";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        List<BenchResult> out = new ArrayList<>();
        Optional<NativeMatrix> engines = NativeMatrix.get();
        if (engines.isEmpty()) return out;
        JavaKernels fp32 = new JavaKernels();
        for (int[] s : config.quick() ? QUICK_SHAPES : SHAPES) {
            for (NativeMatrix.Unit unit : NativeMatrix.Unit.values()) {
                if (engines.get().runsAttention(unit, s[3])) shapeRows(config, engines.get(), unit, fp32, s, out);
            }
        }
        return out;
    }

    private static void shapeRows(BenchConfig config, NativeMatrix engines, NativeMatrix.Unit unit, JavaKernels fp32,
                                  int[] shape, List<BenchResult> out) {
        int lq = shape[0], lk = shape[1], heads = shape[2], d = shape[3], width = heads * d, stride = 3 * width;
        Bf16Kernels bf16 = new Bf16Kernels(engines, unit, fp32);
        int rows = Math.max(lq, lk);
        MemorySegment qkv = BenchData.floats((long) rows * stride, 41), o = BenchData.floats((long) lq * width, 42);
        MemorySegment k = qkv.asSlice((long) width * Float.BYTES), v = qkv.asSlice(2L * width * Float.BYTES);
        float scale = (float) (1 / Math.sqrt(d));
        Runnable base = () -> fp32.attention(qkv, stride, k, stride, v, stride, o, width, lq, lk, heads, d, scale, AttentionBias.NONE);
        Runnable fast = () -> bf16.attention(qkv, stride, k, stride, v, stride, o, width, lq, lk, heads, d, scale, AttentionBias.NONE);
        double flops = 4.0 * lq * lk * d * heads;
        String name = "attn:" + unit.name().toLowerCase(Locale.ROOT).replace('_', '-');
        MatrixCeilings.Kind kind = MatrixCeilings.ofFloatUnit(unit);
        for (int t : config.threads()) {
            config.useThreads(t);
            int threads = t;
            BenchConfig.Measured f = config.secondsAndCeiling(base, () -> Ceilings.fp32FmaSample(config, threads));
            out.add(BenchResult.of("attn:fp32", lq, lk, width, t, flops / f.seconds() / 1e9, "GFLOP/s", f.ceiling()));
            double ceiling = config.ceiling(kind.row, t, n -> MatrixCeilings.measure(kind, n, config.quick() ? 0.002 : 0.2,
                    config.quick() ? 1 : 5).orElse(0.0));
            double seconds = config.seconds(fast);
            out.add(BenchResult.of(name, lq, lk, width, t, flops / seconds / 1e9, "GFLOP/s", ceiling));
            out.add(BenchResult.of(name + "/fp32", lq, lk, width, t, MatrixEngineBenchmark.pairedSpeedup(config, base, fast), "x", 0));
        }
    }
}
