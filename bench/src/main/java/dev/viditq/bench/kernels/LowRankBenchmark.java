package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.LowRankPath;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What the low-rank branch (SVDQuant) costs beside a quantized layer, at the shapes of PixArt-XL/2 at 256 px with
 * classifier-free guidance (M = 2 · 256 = 512 token rows; K → N = 1152 → 1152 attention projections, 1152 → 3456
 * qkv, 1152 → 4608 fc1, 4608 → 1152 fc2). The layer is what a W4A8 layer runs: the fused per-token quantizer with
 * balancing and the randomized Hadamard rotation, then the int4 × int8 GEMM with bias; the layer with its branch
 * adds the {@link LowRankPath} of rank r as it runs on 8-bit activations (the int8 down-projection of the quantized
 * activations the GEMM has just read, the float up-projection with the BF16 L₁, the addition to the output). Samples of the two alternate, so both see the same load, and at 1 thread both are timed by the calling
 * thread's CPU time (the work runs inline then), so time slices taken by other processes on a shared machine do not
 * count; the row's value is the GOP/s of the layer with its branch (counting the integer GEMM's 2·M·N·K), the ratio
 * the median of the per-pair time ratios (alone / with), and its "ceiling" value / ratio, the layer alone at that
 * ratio: 1 / ratio − 1 is the branch's share of the layer's time.
 */
public final class LowRankBenchmark implements KernelBenchmark {
    private static final int[][] SHAPES = {{1152, 1152}, {1152, 3456}, {1152, 4608}, {4608, 1152}};
    private static final int[] RANKS = {16, 32};

    @Override
    public String name() {
        return "lowrank";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        boolean quick = config.quick();
        int m = quick ? 9 : 512;
        IntKernels kernels = IntKernelBackend.get();
        List<BenchResult> out = new ArrayList<>();
        for (int[] shape : quick ? new int[][] {{144, 50}} : SHAPES) {
            int k = shape[0], n = shape[1];
            SplittableRandom rnd = new SplittableRandom(k * 31L + n);
            MemorySegment x = BenchData.floats((long) m * k, 11);
            QuantizedActivations qa = QuantizedActivations.allocate(m, k);
            ActivationTransform transform = IntKernelBenchmark.balancedRotation(k, k % 1152 == 0 ? 1152 : k);
            PackedInt4Weight w4 = IntKernelBenchmark.int4(n, k, 0, rnd);
            MemorySegment bias = BenchData.floats(n, 12), y = Tensor.zeros(m, n).data();
            Runnable layer = () -> {
                kernels.quantize(x, m, k, transform, qa);
                kernels.gemmW4A8(qa, w4, bias, y);
            };
            for (int rank : quick ? new int[] {4} : RANKS) {
                LowRankPath branch = new LowRankPath(randomBranch(n, k, rank, rnd), null, transform.rotation(), true, false, false);
                Runnable withBranch = () -> {
                    layer.run();
                    branch.addFromQuantized(qa, m, y);
                };
                for (int t : config.threads()) {
                    config.useThreads(t);
                    out.add(paired(config, "w4a8+quant+rot+lr" + rank, m, n, k, t, layer, withBranch));
                }
            }
        }
        return out;
    }

    /** Alternating samples of the layer alone and with its branch; median GOP/s of each and of the per-pair ratio. */
    private static BenchResult paired(BenchConfig config, String kernel, int m, int n, int k, int t, Runnable alone, Runnable with) {
        double ops = 2.0 * m * n * k;
        double oneCall = Math.max(config.warmUp(alone), config.warmUp(with));
        int batch = config.quick() ? 1 : (int) Math.max(1, Math.ceil(0.05 / Math.max(oneCall, 1e-9)));
        int reps = config.repetitions();
        double[] a = new double[reps], w = new double[reps], ratios = new double[reps];
        boolean cpuTime = t == 1 && CPU.isCurrentThreadCpuTimeSupported();
        for (int i = 0; i < reps; i++) {
            a[i] = time(alone, batch, cpuTime);
            w[i] = time(with, batch, cpuTime);
            ratios[i] = a[i] / w[i];
        }
        double withBranch = BenchConfig.median(w), ratio = BenchConfig.median(ratios);
        double value = ops / withBranch / 1e9;
        // the ceiling column is value / ratio (as the paired integer rows): the layer alone at the paired ratio
        return BenchResult.of(kernel, m, n, k, t, value, "GOP/s", value / ratio);
    }

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    private static double time(Runnable work, int batch, boolean cpuTime) {
        long t0 = cpuTime ? CPU.getCurrentThreadCpuTime() : System.nanoTime();
        for (int b = 0; b < batch; b++) work.run();
        long t1 = cpuTime ? CPU.getCurrentThreadCpuTime() : System.nanoTime();
        return (t1 - t0) / 1e9 / batch;
    }

    /** Factors of the magnitudes a fitted branch has (L₂ rows of unit norm), rounded to BF16 as stored. */
    private static LowRankBranch randomBranch(int n, int k, int rank, SplittableRandom rnd) {
        float[] l1 = new float[n * rank], l2 = new float[rank * k];
        for (int i = 0; i < l1.length; i++) l1[i] = bf16((float) (rnd.nextGaussian() * 0.05));
        for (int i = 0; i < l2.length; i++) l2[i] = bf16((float) (rnd.nextGaussian() / Math.sqrt(k)));
        return new LowRankBranch(n, k, rank, l1, l2);
    }

    private static float bf16(float v) {
        return Tensor.bf16ToFloat(Tensor.floatToBf16(v));
    }
}
