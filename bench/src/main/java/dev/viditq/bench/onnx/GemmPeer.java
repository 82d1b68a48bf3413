package dev.viditq.bench.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One linear layer at DiT-XL shapes (M tokens × K = 1152 → N = 1152 / 4608), ours against ONNX Runtime on the same
 * weights, inputs and thread count, in rounds (each variant once per round, the median over rounds) so that a
 * change of machine load hits both sides alike:
 * <ul>
 *   <li>fp32: our float GEMM (F32 weights; and BF16 weights, which ONNX Runtime's CPU MatMul lacks) vs ORT MatMul + Add;</li>
 *   <li>w8a8: our per-token int8 quantization + VNNI GEMM vs ORT's com.microsoft DynamicQuantizeMatMul (per-tensor
 *       uint8 activations, int8 weights with per-column scales): the integer MatMul ORT offers on CPU;</li>
 *   <li>w4a8-g128: our int4 weights in groups of 128 with int8 per-token activations vs ORT MatMulNBits (bits 4,
 *       block 128, accuracy_level 4 = int8 activations per block).</li>
 * </ul>
 * Every pair is checked to compute the same product (relative L2 difference printed), so the times compare like
 * with like.
 */
public final class GemmPeer {
    /** One variant's median time, with the peer's when there is one. */
    public record Row(String variant, int m, int n, int k, int threads, double oursSeconds, double ortSeconds,
                      double relativeDifference) {
        public double oursGops() {
            return 2.0 * m * n * k / oursSeconds / 1e9;
        }

        public double ortGops() {
            return Double.isNaN(ortSeconds) ? Double.NaN : 2.0 * m * n * k / ortSeconds / 1e9;
        }
    }

    private static final int GROUP = 128;

    private GemmPeer() {}

    public static List<Row> run(int m, int k, int[] ns, int threads, int rounds, PrintStream log) {
        Parallel.setThreads(threads);
        List<Row> rows = new ArrayList<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        log.printf("# ours: %s, %s; peer: onnxruntime %s (intra-op %d, inter-op 1, sequential); %d rounds, median%n",
                KernelBackend.get().name(), IntKernelBackend.description(), env.getVersion(), threads, rounds);
        for (int n : ns) {
            try (Layer layer = new Layer(m, k, n, threads, env)) {
                rows.addAll(layer.measure(rounds));
            }
        }
        return rows;
    }

    /** Everything for one (M, K, N): weights in each form, our buffers, ORT sessions. */
    private static final class Layer implements AutoCloseable {
        private final int m, k, n, threads;
        private final OrtEnvironment env;
        private final Path dir;
        private final float[] w;          // [n, k]
        private final float[] bias;
        private final Tensor x;
        private final byte[] q8;          // per-channel symmetric int8 of w
        private final float[] s8;
        private final byte[] q4;          // symmetric int4 of w in groups of GROUP along k
        private final float[] s4;         // [n][k / GROUP]
        private final Map<String, OrtSession> sessions = new LinkedHashMap<>();

        Layer(int m, int k, int n, int threads, OrtEnvironment env) {
            this.m = m;
            this.k = k;
            this.n = n;
            this.threads = threads;
            this.env = env;
            if (k % GROUP != 0) throw new IllegalArgumentException("K must be a multiple of " + GROUP);
            SplittableRandom rnd = new SplittableRandom(n);
            w = new float[n * k];
            for (int i = 0; i < w.length; i++) w[i] = (float) ((rnd.nextDouble() * 2 - 1) / Math.sqrt(k));
            bias = new float[n];
            for (int i = 0; i < n; i++) bias[i] = (float) (rnd.nextDouble() * 0.1);
            float[] xs = new float[m * k];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) (rnd.nextDouble() * 2 - 1);
            x = Tensor.of(xs, m, k);
            q8 = new byte[n * k];
            s8 = quantizeSymmetric(w, n, k, k, 127, q8);
            q4 = new byte[n * k];
            s4 = quantizeSymmetric(w, n, k, GROUP, 7, q4);
            try {
                dir = Files.createTempDirectory("viditq-gemm-peer");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        List<Row> measure(int rounds) {
            Tensor wF32 = Tensor.of(w, n, k);
            Tensor wBf16 = wF32.to(DType.BF16);
            MemorySegment b = Tensor.of(bias, n).data();
            Tensor outF32 = Tensor.zeros(m, n), outBf16 = Tensor.zeros(m, n), out8 = Tensor.zeros(m, n), out4 = Tensor.zeros(m, n);
            IntKernels ik = IntKernelBackend.get();
            QuantizedActivations qa = QuantizedActivations.allocate(m, k);
            PackedInt8Weight p8 = PackedInt8Weight.pack(q8, n, k, s8, null);
            PackedInt4Weight p4 = PackedInt4Weight.pack(q4, n, k, GROUP, s4, null);

            Map<String, Runnable> ours = new LinkedHashMap<>();
            ours.put("fp32", () -> KernelBackend.get().gemm(x.data(), m, k, wF32, b, outF32.data()));
            ours.put("bf16-weights", () -> KernelBackend.get().gemm(x.data(), m, k, wBf16, b, outBf16.data()));
            ours.put("w8a8", () -> ik.linear(x.data(), m, null, qa, p8, b, out8.data()));
            ours.put("w4a8-g128", () -> ik.linear(x.data(), m, null, qa, p4, b, out4.data()));
            Map<String, OrtRunner> peer = new LinkedHashMap<>();
            peer.put("fp32", ortRunner("fp32", this::floatGraph));
            peer.put("w8a8", ortRunner("w8a8", this::int8Graph));
            peer.put("w4a8-g128", ortRunner("w4a8-g128", this::int4Graph));

            Map<String, List<Double>> oursTimes = new LinkedHashMap<>(), peerTimes = new LinkedHashMap<>();
            Map<String, float[]> peerOut = new LinkedHashMap<>();
            for (int r = -1; r < rounds; r++) { // round -1 warms both up
                for (var e : ours.entrySet()) {
                    double s = time(e.getValue());
                    if (r >= 0) oursTimes.computeIfAbsent(e.getKey(), key -> new ArrayList<>()).add(s);
                    OrtRunner p = peer.get(e.getKey());
                    if (p == null) continue;
                    double ps = time(() -> p.run(false));
                    if (r >= 0) peerTimes.computeIfAbsent(e.getKey(), key -> new ArrayList<>()).add(ps);
                }
            }
            peer.forEach((v, p) -> peerOut.put(v, p.run(true)));
            Map<String, Tensor> ourOut = Map.of("fp32", outF32, "bf16-weights", outBf16, "w8a8", out8, "w4a8-g128", out4);
            List<Row> rows = new ArrayList<>();
            for (String v : ours.keySet()) {
                float[] y = peerOut.get(v);
                double diff = y == null ? Double.NaN : relativeL2(y, ourOut.get(v).toFloatArray());
                rows.add(new Row(v, m, n, k, threads, median(oursTimes.get(v)),
                        y == null ? Double.NaN : median(peerTimes.get(v)), diff));
            }
            return rows;
        }

        /**
         * Quiet time before each timed call. ONNX Runtime's intra-op threads spin-wait for a while after a run returns;
         * a call timed right after one shared the two cores with those spinning threads (ours measured at half
         * speed in those rounds, 2026-11-26). Sleeping first lets whichever engine ran last go idle.
         */
        static final long SETTLE_MILLIS = Long.getLong("viditq.bench.settle-ms", 20);

        private static double time(Runnable r) {
            settle();
            long t0 = System.nanoTime();
            r.run();
            return (System.nanoTime() - t0) / 1e9;
        }

        private static void settle() {
            try {
                Thread.sleep(SETTLE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** One session.run on the shared input; the output is copied out only when asked (not in timed runs). */
        private interface OrtRunner {
            float[] run(boolean copyOut);
        }

        private OrtRunner ortRunner(String name, java.util.function.Consumer<OnnxGraph> build) {
            Path file = dir.resolve(name + ".onnx");
            try (OnnxGraph g = new OnnxGraph(file, name)) {
                g.input("x", DataType.FLOAT, (long) m, (long) k);
                build.accept(g);
                g.output("y", DataType.FLOAT, (long) m, (long) n);
                g.save("viditq bench gemm-peer");
            }
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                opts.setIntraOpNumThreads(threads);
                opts.setInterOpNumThreads(1);
                opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                OrtSession s = env.createSession(file.toString(), opts);
                sessions.put(name, s);
                OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toFloatArray()), new long[]{m, k});
                return copyOut -> {
                    try (OrtSession.Result r = s.run(Map.of("x", input))) {
                        if (!copyOut) return null;
                        FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                        float[] y = new float[fb.remaining()];
                        fb.get(y);
                        return y;
                    } catch (OrtException e) {
                        throw new IllegalStateException("ONNX Runtime failed on " + name + ": " + e.getMessage(), e);
                    }
                };
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime cannot load the " + name + " graph: " + e.getMessage(), e);
            }
        }

        private void floatGraph(OnnxGraph g) {
            float[] wt = new float[k * n];
            for (int o = 0; o < n; o++) for (int i = 0; i < k; i++) wt[i * n + o] = w[o * k + i];
            String y = g.op("MatMul", "x", g.floats("w_t", wt, k, n));
            g.identity(g.op("Add", y, g.floats("bias", bias, n)), "y");
        }

        /** DynamicQuantizeMatMul(x, B int8 [K, N], per-column scale, zero points 0, bias). */
        private void int8Graph(OnnxGraph g) {
            ByteBuffer bt = ByteBuffer.allocate(k * n);
            for (int i = 0; i < k; i++) for (int o = 0; o < n; o++) bt.put(i * n + o, q8[o * k + i]);
            String bq = g.initializer("b_q", DataType.INT8, new long[]{k, n}, bt);
            String zero = g.initializer("b_zero", DataType.INT8, new long[]{n}, ByteBuffer.allocate(n));
            String[] y = g.opN("DynamicQuantizeMatMul", OnnxGraph.MICROSOFT,
                    List.of("x", bq, g.floats("b_scale", s8, n), zero, g.floats("bias", bias, n)), 1, Map.of());
            g.identity(y[0], "y");
        }

        /** MatMulNBits: B uint8 [N, K/block, block/2] (u = q + 8, low nibble first), scales [N, K/block]. */
        private void int4Graph(OnnxGraph g) {
            int blocks = k / GROUP;
            ByteBuffer packed = ByteBuffer.allocate(n * k / 2);
            for (int o = 0; o < n; o++) {
                for (int i = 0; i < k; i += 2) {
                    int lo = q4[o * k + i] + 8, hi = q4[o * k + i + 1] + 8;
                    packed.put((o * k + i) / 2, (byte) (lo | (hi << 4)));
                }
            }
            String bq = g.initializer("b_q4", DataType.UINT8, new long[]{n, blocks, GROUP / 2}, packed);
            String scales = g.floats("b_scales", s4, (long) n * blocks);
            String[] y = g.opN("MatMulNBits", OnnxGraph.MICROSOFT, List.of("x", bq, scales), 1,
                    Map.of("K", (long) k, "N", (long) n, "bits", 4L, "block_size", (long) GROUP, "accuracy_level", 4L));
            g.identity(g.op("Add", y[0], g.floats("bias", bias, n)), "y");
        }

        @Override
        public void close() {
            for (OrtSession s : sessions.values()) {
                try {
                    s.close();
                } catch (OrtException ignored) {
                    // closing a session we are done with
                }
            }
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a temp folder left behind is harmless
            }
        }
    }

    /**
     * Symmetric quantization of w [n, k] in groups of {@code group} along k: q = rint(w / s), s = absmax / qmax.
     * Returns the scales [n][k / group].
     */
    static float[] quantizeSymmetric(float[] w, int n, int k, int group, int qmax, byte[] q) {
        int groups = k / group;
        float[] scales = new float[n * groups];
        for (int o = 0; o < n; o++) {
            for (int gi = 0; gi < groups; gi++) {
                float max = 0;
                for (int i = gi * group; i < (gi + 1) * group; i++) max = Math.max(max, Math.abs(w[o * k + i]));
                float s = max == 0 ? 1 : max / qmax;
                scales[o * groups + gi] = s;
                for (int i = gi * group; i < (gi + 1) * group; i++) {
                    q[o * k + i] = (byte) Math.max(-qmax, Math.min(qmax, Math.rint(w[o * k + i] / s)));
                }
            }
        }
        return scales;
    }

    static double relativeL2(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** The table {@code bench gemm-peer} prints. */
    public static void print(List<Row> rows, PrintStream out) {
        out.printf(Locale.ROOT, "%-13s %5s %5s %5s %3s %12s %12s %10s %10s%n", "variant", "m", "n", "k", "thr",
                "ours GOP/s", "ORT GOP/s", "ours/ORT t", "rel diff");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-13s %5d %5d %5d %3d %12.1f %12s %10s %10s%n", r.variant(), r.m(), r.n(), r.k(),
                    r.threads(), r.oursGops(), Double.isNaN(r.ortSeconds()) ? "-" : String.format(Locale.ROOT, "%.1f", r.ortGops()),
                    Double.isNaN(r.ortSeconds()) ? "-" : String.format(Locale.ROOT, "%.2f", r.oursSeconds() / r.ortSeconds()),
                    Double.isNaN(r.relativeDifference()) ? "-" : String.format(Locale.ROOT, "%.1e", r.relativeDifference()));
        }
    }

}
