package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.Bf16Kernels;
import dev.viditq.core.kernels.JavaKernels;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.MatrixCeilings;
import dev.viditq.core.kernels.quant.NativeIntKernels;
import dev.viditq.core.kernels.quant.NativeMatrix;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * The CPU's matrix units (AMX-INT8, AMX-BF16, AVX512-BF16), where present: their ceilings (register-only loops,
 * t threads at once) and each kernel that runs on them, with its ratio to the ceiling of its own unit:
 * <ul>
 *   <li>amx:w8a8, amx:w4a8 (GEMM alone) and amx:w8a8+quant (with per-token quantization) against AMX-INT8,
 *       amx:w8a8/vnni, how many times faster the AMX GEMM runs than the AVX-512 VNNI one (paired, as below), and
 *       amx:w8a8+gelu/pass, how many times faster it runs with GELU-tanh in its epilogue than followed by the GELU
 *       pass;</li>
 *   <li>bf16:amx and bf16:avx512-bf16, the float GEMM with F32 activations rounded to bf16 (BF16 weights),
 *       against AMX-BF16 and AVX512-BF16; and bf16:&lt;unit&gt;/fp32, how many times faster it is than the FP32 Java
 *       GEMM on the same operands (rounds of each timed back to back: a ratio that holds on a shared machine);</li>
 *   <li>attention:amx, self-attention of 4096 and 1024 tokens × 16 heads × 72 (flops as 4·lq·lk·d per head,
 *       the real head dimension), against AMX-BF16.</li>
 * </ul>
 * GEMM shapes are PixArt / DiT-XL's: M = 1024 tokens, (K, N) = (1152, 1152), (1152, 4608) and (4608, 1152).
 * The ceiling rows are measured once per thread count (best of 5 rounds); kernels as medians, each against the
 * median of its unit's ceiling sampled right after each of its samples (so a kernel row's ceiling column is that
 * median, not the ceiling row). Listed in bench's META-INF/services; run by {@code ./viditq bench kernels --only matrix}.
 */
public final class MatrixEngineBenchmark implements KernelBenchmark {
    @Override
    public String name() {
        return "matrix";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        Optional<NativeMatrix> engines = NativeMatrix.get();
        List<BenchResult> out = new ArrayList<>();
        if (engines.isEmpty()) return out;
        NativeMatrix m = engines.get();
        ceilings(config, out);
        boolean quick = config.quick();
        int rows = quick ? 9 : 1024;
        int[][] kn = quick ? new int[][]{{64, 50}} : new int[][]{{1152, 1152}, {1152, 4608}, {4608, 1152}};
        for (int[] shape : kn) {
            int k = shape[0], n = shape[1];
            if (m.has(NativeMatrix.Unit.AMX)) integerRows(config, rows, n, k, out);
            for (NativeMatrix.Unit unit : NativeMatrix.Unit.values()) {
                if (m.has(unit)) floatRows(config, m, unit, rows, n, k, out);
            }
        }
        if (m.has(NativeMatrix.Unit.AMX)) {
            for (int tokens : quick ? new int[]{40} : new int[]{4096, 1024}) {
                attentionRows(config, m, tokens, quick ? 2 : 16, quick ? 8 : 72, out);
            }
        }
        return out;
    }

    /** Each present unit's ceiling at every thread count (best of 5 rounds), as rows of ratio 1. */
    private static void ceilings(BenchConfig config, List<BenchResult> out) {
        for (MatrixCeilings.Kind kind : MatrixCeilings.Kind.values()) {
            for (int t : config.threads()) {
                double seconds = config.quick() ? 0.002 : 0.2;
                Optional<Double> c = MatrixCeilings.measure(kind, t, seconds, config.quick() ? 1 : 5);
                if (c.isEmpty()) break;
                out.add(BenchResult.of(kind.row, 0, 0, 0, t, c.get(), kind.unit, c.get()));
            }
        }
    }

    /**
     * One short round (50 ms) of {@code kind}'s ceiling loop on {@code threads} threads, taken after each of a kernel's
     * samples ({@link BenchConfig#secondsAndCeiling}); a kernel's ratio is to the median of these. Not to the ceiling
     * rows measured once at the start: on the AMX hosts the same loop at 2 threads came out anywhere from 4,300 to
     * 9,500 GOP/s between runs minutes apart, with where the two threads ran (some pairs of those hosts' vCPUs slow
     * each other's tiles down; docs/BENCHMARKS.md, "AMX host: oneDNN beside ours").
     */
    private static DoubleSupplier ceilingSample(BenchConfig config, MatrixCeilings.Kind kind, int threads) {
        long iterations = MatrixCeilings.iterations(kind, config.quick() ? 0.002 : 0.05);
        return () -> MatrixCeilings.sample(kind, threads, iterations);
    }

    private static void integerRows(BenchConfig config, int m, int n, int k, List<BenchResult> out) {
        IntKernels amx = NativeIntKernels.load(NativeIntKernels.AMX), vnni = NativeIntKernels.load("avx512-vnni");
        SplittableRandom r = new SplittableRandom(n + 31L * k);
        PackedInt8Weight w8 = PackedInt8Weight.pack(randomInts(r, n * k, 127), n, k, scales(r, n), null);
        PackedInt4Weight w4 = PackedInt4Weight.pack(randomInts(r, n * k, 7), n, k, 0, scales(r, n), null);
        MemorySegment x = BenchData.floats((long) m * k, 21), bias = BenchData.floats(n, 22), y = Tensor.zeros(m, n).data();
        QuantizedActivations qa = QuantizedActivations.allocate(m, k);
        amx.quantize(x, m, k, null, qa);
        for (int t : config.threads()) {
            config.useThreads(t);
            DoubleSupplier c = ceilingSample(config, MatrixCeilings.Kind.AMX_INT8, t);
            out.add(rate(config, "amx:w8a8", m, n, k, t, "GOP/s", c, () -> amx.gemmW8A8(qa, w8, bias, y)));
            out.add(rate(config, "amx:w4a8", m, n, k, t, "GOP/s", c, () -> amx.gemmW4A8(qa, w4, bias, y)));
            out.add(rate(config, "amx:w8a8+quant", m, n, k, t, "GOP/s", c, () -> {
                amx.quantize(x, m, k, null, qa);
                amx.gemmW8A8(qa, w8, bias, y);
            }));
            double speedup = pairedSpeedup(config, () -> vnni.gemmW8A8(qa, w8, bias, y), () -> amx.gemmW8A8(qa, w8, bias, y));
            out.add(BenchResult.of("amx:w8a8/vnni", m, n, k, t, speedup, "x", 0));
            out.add(BenchResult.of("amx:w8a8+gelu/pass", m, n, k, t, IntKernelBenchmark.geluFusedOverPass(config, amx, qa, w8, bias, y), "x", 0));
        }
    }

    private static void floatRows(BenchConfig config, NativeMatrix engines, NativeMatrix.Unit unit, int m, int n, int k,
                                  List<BenchResult> out) {
        Bf16Kernels kernels = new Bf16Kernels(engines, unit, new JavaKernels());
        Tensor w = BenchData.tensor(DType.BF16, 23, n, k);
        MemorySegment x = BenchData.floats((long) m * k, 24), bias = BenchData.floats(n, 25), y = Tensor.zeros(m, n).data();
        String name = "bf16:" + unit.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        JavaKernels fp32 = new JavaKernels();
        for (int t : config.threads()) {
            config.useThreads(t);
            Runnable bf16 = () -> kernels.gemm(x, m, k, w, bias, y);
            out.add(rate(config, name, m, n, k, t, "GFLOP/s", ceilingSample(config, MatrixCeilings.ofFloatUnit(unit), t), bf16));
            double speedup = pairedSpeedup(config, () -> fp32.gemm(x, m, k, w, bias, y), bf16);
            out.add(BenchResult.of(name + "/fp32", m, n, k, t, speedup, "x", 0));
        }
    }

    /**
     * How many times faster {@code fast} runs than {@code base}: the median over rounds that time one batch of each
     * right after the other, so that load from other processes hits both alike (a ratio for shared machines).
     */
    static double pairedSpeedup(BenchConfig config, Runnable base, Runnable fast) {
        double oneCall = Math.max(config.warmUp(base), config.warmUp(fast));
        int batch = (int) Math.max(1, Math.ceil((config.quick() ? 0 : 0.05) / Math.max(oneCall, 1e-9)));
        double[] ratios = new double[config.repetitions()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = time(base, batch) / time(fast, batch);
        }
        return BenchConfig.median(ratios);
    }

    private static double time(Runnable work, int batch) {
        long t0 = System.nanoTime();
        for (int b = 0; b < batch; b++) work.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void attentionRows(BenchConfig config, NativeMatrix engines, int tokens, int heads, int d,
                                      List<BenchResult> out) {
        Bf16Kernels kernels = new Bf16Kernels(engines, NativeMatrix.Unit.AMX, new JavaKernels());
        int width = heads * d, stride = 3 * width;
        MemorySegment qkv = BenchData.floats((long) tokens * stride, 26), o = BenchData.floats((long) tokens * width, 27);
        MemorySegment k = qkv.asSlice((long) width * Float.BYTES), v = qkv.asSlice(2L * width * Float.BYTES);
        float scale = (float) (1 / Math.sqrt(d));
        for (int t : config.threads()) {
            config.useThreads(t);
            BenchConfig.Measured r = config.secondsAndCeiling(() -> kernels.attention(qkv, stride, k, stride, v, stride, o, width,
                    tokens, tokens, heads, d, scale, AttentionBias.NONE), ceilingSample(config, MatrixCeilings.Kind.AMX_BF16, t));
            double gflops = 4.0 * tokens * tokens * d * heads / r.seconds() / 1e9;
            out.add(BenchResult.of("attention:amx", tokens, tokens, width, t, gflops, "GFLOP/s", r.ceiling()));
        }
    }

    /** 2·m·n·k operations per call of {@code work}, per second (median), next to the unit's ceiling sampled beside it. */
    private static BenchResult rate(BenchConfig config, String kernel, int m, int n, int k, int t, String unit,
                                    DoubleSupplier ceilingSample, Runnable work) {
        BenchConfig.Measured r = config.secondsAndCeiling(work, ceilingSample);
        return BenchResult.of(kernel, m, n, k, t, 2.0 * m * n * k / r.seconds() / 1e9, unit, r.ceiling());
    }

    private static byte[] randomInts(SplittableRandom r, int count, int max) {
        byte[] q = new byte[count];
        for (int i = 0; i < count; i++) q[i] = (byte) (r.nextInt(2 * max + 1) - max);
        return q;
    }

    private static float[] scales(SplittableRandom r, int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = (float) (0.001 + 0.01 * r.nextDouble());
        return s;
    }
}
