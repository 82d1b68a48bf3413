package dev.viditq.bench.kernels;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.JavaIntKernels;
import dev.viditq.core.kernels.quant.NativeIntKernels;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;

/**
 * The integer kernels of {@link IntKernelBackend} at DiT-XL shapes (M = 1024 tokens, K = 1152,
 * N = 1152 and 4608), in GOP/s = 2·M·N·K / time against the int8 ceiling: a register-only vpdpbusd loop in C
 * (ceiling-int8-vnni, t threads at once; the FP32 FMA ceiling on CPUs without AVX-512 VNNI). Each GOP/s row
 * pairs every kernel sample with a ceiling sample taken right after it, and 1-thread rows count CPU time, not
 * wall time (see {@link #gops}), so the ratios hold on a loaded, shared machine. Rows:
 * <ul>
 *   <li>w8a8+quant, w4a8+quant, w4a8-g128+quant: a whole quantized linear layer — per-token quantization of the
 *       F32 input, then the GEMM with bias (int4: per channel, or groups of 128);</li>
 *   <li>w8a8+quant+rot: the same with ViDiT-Q balancing and a randomized Hadamard rotation of 1152 = 36·32
 *       fused into the quantization;</li>
 *   <li>w8a8, w4a8: the GEMM alone;</li>
 *   <li>w8a8+gelu/pass: how many times faster the GEMM with GELU-tanh in its epilogue (an MLP's first layer) runs than
 *       the GEMM followed by the float kernels' GELU pass (paired rounds, as MatrixEngineBenchmark's ratios);</li>
 *   <li>quantize, quantize-rot128, quantize-rot1152: the quantizer alone, in GB/s of F32 input against the
 *       copy bandwidth; quantize-rot4608 and quantize-rot8960 (256 rows): the rotations of wider FFN inputs;</li>
 *   <li>java:w8a8+quant: the pure Java fallback, for comparison.</li>
 * </ul>
 * Listed in META-INF/services/dev.viditq.bench.kernels.KernelBenchmark; run by {@code ./viditq bench kernels}.
 */
public final class IntKernelBenchmark implements KernelBenchmark {
    public static final String VNNI_CEILING = "int8-vnni";

    @Override
    public String name() {
        return "int8";
    }

    @Override
    public List<BenchResult> run(BenchConfig config) {
        boolean quick = config.quick();
        int m = quick ? 9 : 1024, k = quick ? 144 : 1152;
        int[] ns = quick ? new int[] {50} : new int[] {1152, 4608};
        // these rows are the vector units' (against the VNNI ceiling); AMX has its own: MatrixEngineBenchmark
        IntKernels backend = IntKernelBackend.get();
        IntKernels kernels = backend instanceof NativeIntKernels n && n.isa().equals(NativeIntKernels.AMX)
                ? NativeIntKernels.load("avx512-vnni") : backend;
        List<BenchResult> out = new ArrayList<>();
        for (int t : config.threads()) {
            double c = config.ceiling(VNNI_CEILING, t, th -> measureVnni(th, quick));
            if (c > 0) out.add(BenchResult.of("ceiling-int8-vnni", 0, 0, 0, t, c, "GOP/s", c));
        }
        MemorySegment x = BenchData.floats((long) m * k, 11);
        QuantizedActivations qa = QuantizedActivations.allocate(m, k);
        ActivationTransform rotation = balancedRotation(k, k);
        for (int n : ns) {
            SplittableRandom rnd = new SplittableRandom(n);
            PackedInt8Weight w8 = int8(n, k, rnd);
            PackedInt4Weight w4 = int4(n, k, 0, rnd), w4g = int4(n, k, 128, rnd);
            MemorySegment bias = BenchData.floats(n, 12), y = Tensor.zeros(m, n).data();
            for (int t : config.threads()) {
                config.useThreads(t);
                double ceiling = vnniCeiling(config, t);
                out.add(gops(config, "w8a8+quant", m, n, k, t, ceiling, () -> {
                    kernels.quantize(x, m, k, null, qa);
                    kernels.gemmW8A8(qa, w8, bias, y);
                }));
                out.add(gops(config, "w8a8+quant+rot", m, n, k, t, ceiling, () -> {
                    kernels.quantize(x, m, k, rotation, qa);
                    kernels.gemmW8A8(qa, w8, bias, y);
                }));
                out.add(gops(config, "w4a8+quant", m, n, k, t, ceiling, () -> {
                    kernels.quantize(x, m, k, null, qa);
                    kernels.gemmW4A8(qa, w4, bias, y);
                }));
                out.add(gops(config, "w4a8-g128+quant", m, n, k, t, ceiling, () -> {
                    kernels.quantize(x, m, k, null, qa);
                    kernels.gemmW4A8(qa, w4g, bias, y);
                }));
                kernels.quantize(x, m, k, null, qa);
                out.add(gops(config, "w8a8", m, n, k, t, ceiling, () -> kernels.gemmW8A8(qa, w8, bias, y)));
                out.add(gops(config, "w4a8", m, n, k, t, ceiling, () -> kernels.gemmW4A8(qa, w4, bias, y)));
                out.add(BenchResult.of("w8a8+gelu/pass", m, n, k, t, geluFusedOverPass(config, kernels, qa, w8, bias, y), "x", 0));
            }
        }
        for (int t : config.threads()) {
            config.useThreads(t);
            double copy = Ceilings.copyBandwidth(config, t);
            out.add(quantizer(config, "quantize", kernels, x, m, k, null, qa, t, copy));
            if (k % 128 == 0) out.add(quantizer(config, "quantize-rot128", kernels, x, m, k, balancedRotation(k, 128), qa, t, copy));
            out.add(quantizer(config, "quantize-rot" + k, kernels, x, m, k, rotation, qa, t, copy));
        }
        if (!quick) wideRotations(config, kernels, out);
        if (!(kernels instanceof JavaIntKernels)) {
            IntKernels java = new JavaIntKernels();
            int n = ns[0];
            PackedInt8Weight w8 = int8(n, k, new SplittableRandom(n));
            MemorySegment bias = BenchData.floats(n, 12), y = Tensor.zeros(m, n).data();
            for (int t : config.threads()) {
                config.useThreads(t);
                out.add(gops(config, "java:w8a8+quant", m, n, k, t, vnniCeiling(config, t), () -> {
                    java.quantize(x, m, k, null, qa);
                    java.gemmW8A8(qa, w8, bias, y);
                }));
            }
        }
        return out;
    }

    /**
     * How many times faster {@code kernels}' GEMM with GELU-tanh in its epilogue runs than the GEMM then the
     * {@link KernelBackend}'s GELU pass over its outputs (paired rounds).
     */
    static double geluFusedOverPass(BenchConfig config, IntKernels kernels, QuantizedActivations qa, PackedWeight w,
                                    MemorySegment bias, MemorySegment y) {
        long outputs = (long) qa.rows() * w.n();
        return MatrixEngineBenchmark.pairedSpeedup(config, () -> {
            kernels.gemm(qa, w, bias, y);
            KernelBackend.get().geluTanh(y, outputs);
        }, () -> kernels.gemm(qa, w, bias, Activation.GELU_TANH, y));
    }

    /**
     * GOP/s of {@code work} and its ratio to the int8 ceiling, measured in pairs: each timed sample of the kernel
     * is followed at once by a sample of the vpdpbusd loop of about the same length on as many threads, and the
     * reported ratio is the median of the per-pair ratios (the ceiling column is value / ratio). At 1 thread
     * both are timed by the calling thread's CPU time ({@link dev.viditq.core.parallel.Parallel} runs the work
     * inline then), so time slices taken by other processes on a shared machine do not count; at more threads
     * by wall time. Without VNNI: the FP32 FMA ceiling of the run, unpaired.
     */
    private static BenchResult gops(BenchConfig config, String kernel, int m, int n, int k, int t, double ceiling, Runnable work) {
        double ops = 2.0 * m * n * k;
        double oneCall = config.seconds(work);   // warm-up, and the length of a call
        if (!hasVnni() || config.quick()) return BenchResult.of(kernel, m, n, k, t, ops / oneCall / 1e9, "GOP/s", ceiling);
        Clock clock = t == 1 && CPU.isCurrentThreadCpuTimeSupported() ? CPU::getCurrentThreadCpuTime : System::nanoTime;
        int batch = (int) Math.max(1, Math.ceil(0.05 / oneCall));
        double[] values = new double[config.repetitions()], ratios = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            long t0 = clock.nanos();
            for (int b = 0; b < batch; b++) work.run();
            double seconds = (clock.nanos() - t0) / 1e9;
            values[i] = ops * batch / seconds / 1e9;
            ratios[i] = values[i] / vnniSample(t, seconds, clock);
        }
        double value = BenchConfig.median(values), ratio = BenchConfig.median(ratios);
        return BenchResult.of(kernel, m, n, k, t, value, "GOP/s", value / ratio);
    }

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private interface Clock {
        long nanos();
    }

    /**
     * The rotations of wider layer inputs, 256 tokens each: an FFN's second layer in PixArt-XL (4608 = H₃₆ ⊗ H₁₂₈) and in
     * Wan 2.1 1.3B (8960 = H₁₄₀ ⊗ H₆₄, the largest dense factor of the supported models).
     */
    private static void wideRotations(BenchConfig config, IntKernels kernels, List<BenchResult> out) {
        int m = 256;
        for (int k : new int[] {4608, 8960}) {
            MemorySegment x = BenchData.floats((long) m * k, 13);
            QuantizedActivations qa = QuantizedActivations.allocate(m, k);
            ActivationTransform rotation = balancedRotation(k, k);
            for (int t : config.threads()) {
                config.useThreads(t);
                out.add(quantizer(config, "quantize-rot" + k, kernels, x, m, k, rotation, qa, t, Ceilings.copyBandwidth(config, t)));
            }
        }
    }

    private static BenchResult quantizer(BenchConfig config, String kernel, IntKernels kernels, MemorySegment x, int m,
                                         int k, ActivationTransform transform, QuantizedActivations qa, int t, double copy) {
        double seconds = config.seconds(() -> kernels.quantize(x, m, k, transform, qa));
        return BenchResult.of(kernel, m, 0, k, t, (double) m * k * Float.BYTES / seconds / 1e9, "GB/s", copy);
    }

    /** Balancing vector and randomized Hadamard rotation with blocks of {@code block}. */
    static ActivationTransform balancedRotation(int k, int block) {
        float[] smooth = new float[k];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < k; i++) smooth[i] = (float) (0.5 + r.nextDouble());
        return ActivationTransform.of(k, smooth, HadamardRotation.randomized(k, block, 7));
    }

    private static PackedInt8Weight int8(int n, int k, SplittableRandom rnd) {
        byte[] q = new byte[n * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) rnd.nextInt(256);
        float[] s = new float[n];
        int[] z = new int[n];
        for (int c = 0; c < n; c++) {
            s[c] = (float) (0.001 + 0.01 * rnd.nextDouble());
            z[c] = rnd.nextInt(256) - 128;
        }
        return PackedInt8Weight.pack(q, n, k, s, z);
    }

    static PackedInt4Weight int4(int n, int k, int group, SplittableRandom rnd) {
        byte[] q = new byte[n * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(16) - 8);
        int groups = PackedInt4Weight.groupCount(k, group);
        float[] s = new float[n * groups];
        for (int i = 0; i < s.length; i++) s[i] = (float) (0.01 + 0.1 * rnd.nextDouble());
        return PackedInt4Weight.pack(q, n, k, group, s, null);
    }

    /**
     * GOP/s of the register-only vpdpbusd loop on {@code threads} threads at once; without AVX-512 VNNI (or
     * without the native library) the FP32 FMA ceiling, the best a kernel can do then.
     */
    public static double vnniCeiling(BenchConfig config, int threads) {
        double vnni = config.ceiling(VNNI_CEILING, threads, t -> measureVnni(t, config.quick()));
        return vnni > 0 ? vnni : Ceilings.fp32Fma(config, threads);
    }

    private static boolean hasVnni() {
        return NativeIntKernels.hasVnni();
    }

    /** Median of 5 samples; 1 thread by CPU time (as the 1-thread kernel rows), more by wall time. */
    private static double measureVnni(int threads, boolean quick) {
        if (!hasVnni()) return 0;
        Clock clock = threads == 1 && CPU.isCurrentThreadCpuTimeSupported() ? CPU::getCurrentThreadCpuTime : System::nanoTime;
        double[] rounds = new double[quick ? 2 : 5];
        for (int r = -1; r < rounds.length; r++) {
            double gops = vnniSample(threads, quick ? 0.001 : 0.2, clock);
            if (r >= 0) rounds[r] = gops;
        }
        return BenchConfig.median(rounds);
    }

    /** Iterations of the vpdpbusd loop per second of one thread, from the last sample (a first guess: 4e8). */
    private static volatile double itersPerSecond = 4e8;

    /**
     * GOP/s of the vpdpbusd loop on {@code threads} threads at once, run for about {@code seconds}; one thread
     * runs on the caller, timed by {@code clock}.
     */
    private static double vnniSample(int threads, double seconds, Clock clock) {
        long iters = Math.max(1000, (long) (itersPerSecond * seconds));
        long t0 = clock.nanos();
        if (threads == 1) NativeIntKernels.vnniPeak(iters);
        else concurrently(threads, () -> NativeIntKernels.vnniPeak(iters));
        double elapsed = (clock.nanos() - t0) / 1e9;
        itersPerSecond = iters / elapsed;
        return (double) threads * iters * NativeIntKernels.VNNI_PEAK_OPS_PER_ITER / elapsed / 1e9;
    }

    private static void concurrently(int threads, Runnable body) {
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                body.run();
            }));
        }
        for (Thread th : started) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
