package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;
import dev.viditq.bench.arch.RandomCheckpoint;
import dev.viditq.bench.onnx.OnnxPeer;
import dev.viditq.bench.onnx.OrtDenoiser;
import dev.viditq.bench.profile.MachineState;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.StepContext;
import dev.viditq.nn.sampling.SeededGaussian;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of one architecture (and optionally ONNX Runtime on each setting's exported graph) loaded in one
 * JVM and timed in turn, one CFG forward pass (batch 2, = one sampling step's model call) each per round: on a shared
 * machine whose load drifts from second to second, a round compares all of them under nearly the same conditions, so
 * the per-round ratios and their medians are the figures to trust; absolute seconds are not.
 *
 * <p>With the peer, ONNX Runtime runs the bf16, w8a8 and w4a8 graphs (FP32 MatMul, DynamicQuantizeMatMul, MatMulNBits);
 * w4a8-mp has no peer figure.
 *
 * <p>Round r runs at step r of a {@code rounds}-step schedule (timesteps evenly from 999 down), so a plan whose bits
 * depend on the step sees its step ranges in proportion. Round 0 is a warm-up (JIT) and not counted. Memory is not
 * measured here (every model is resident at once): use the forked runs of {@link E2eSuite} for that.
 */
public final class InterleavedRun {
    /** One timed participant: ours at a setting, or ONNX Runtime on that setting's graph. */
    public record Participant(String setting, String engine, double medianSeconds, List<Double> seconds, String runtime) {
        public String key() {
            return engine + ":" + setting;
        }
    }

    /** A median over rounds of the per-round ratio {@code slower / faster} (>1: {@code faster} is faster). */
    public record Ratio(String name, String faster, String slower, double median, List<Double> perRound) {}

    /** The whole run; {@code cpuSteal} over the measured rounds, null where /proc/stat does not say. */
    public record Result(String arch, int threads, int rounds, List<Participant> participants, List<Ratio> ratios,
                         String loadBefore, String loadAfter, double fmaCeilingGflops, MachineState.Steal cpuSteal) {}

    private record Entry(String setting, String engine, Denoiser model, String runtime) {
        String key() {
            return engine + ":" + setting;
        }
    }

    private InterleavedRun() {}

    public static Result run(Architecture arch, List<Setting> settings, boolean withOrt, int rounds, int threads,
                             Path cacheRoot, PrintStream log) {
        Parallel.setThreads(threads);
        Path floatDir = RandomCheckpoint.ensure(arch, cacheRoot, log);
        List<Entry> entries = new ArrayList<>();
        try {
            for (Setting s : settings) {
                E2eRequest req = new E2eRequest(arch, s, rounds, threads, E2eRequest.Engine.VIDITQ, cacheRoot);
                Path dir = QuantizedSettings.prepare(req, floatDir, log);
                Denoiser ours = ModelLoader.load(dir);
                entries.add(new Entry(s.label(), "viditq", ours, "viditq"));
                if (withOrt && s != Setting.W4A8_MP) { // the peer targets: float, int8, 4-bit (mixed plans have no ORT target)
                    Path onnx = OnnxPeer.ensureExport(dir, log);
                    OrtDenoiser ort = new OrtDenoiser(onnx, ours.info(), ours.nullCaption().map(Tensor::toF32).orElse(null), threads);
                    entries.add(new Entry(s.label(), "onnxruntime", ort, ort.describe()));
                }
            }
            return measure(arch, entries, rounds, threads, log);
        } finally {
            for (Entry e : entries) e.model().close();
        }
    }

    private static Result measure(Architecture arch, List<Entry> entries, int rounds, int threads, PrintStream log) {
        Denoiser any = entries.getFirst().model();
        Conditioning[] cu = TimedSampling.conditioningFor(arch, any);
        Conditioning both = TimedSampling.cfgBatch(cu[0], cu[1]);
        long[] latent = arch.latentShape();
        long[] shape = new long[latent.length + 1];
        shape[0] = 2;
        System.arraycopy(latent, 0, shape, 1, latent.length);
        Tensor x = new SeededGaussian(1).next(shape);
        String loadBefore = MachineState.loadAverage();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        for (Entry e : entries) times.put(e.key(), new ArrayList<>());
        Optional<MachineState.CpuTimes> measuredStart = Optional.empty();
        for (int r = 0; r <= rounds; r++) {
            Optional<MachineState.CpuTimes> roundStart = MachineState.cpuTimes();
            if (r == 1) measuredStart = roundStart;
            int step = Math.max(0, r - 1);
            double timestep = 999.0 * (rounds - step) / rounds;
            Tensor t = Tensor.of(new float[]{(float) timestep, (float) timestep}, 2);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  round %d%s:", r, r == 0 ? " (warm-up)" : ""));
            for (Entry e : entries) {
                StepContext ctx = new StepContext(step, rounds, timestep, StepContext.CfgHalf.BATCH_COND_FIRST);
                long t0 = System.nanoTime();
                StepContext.callWith(ctx, () -> e.model().forward(x, t, both));
                double s = (System.nanoTime() - t0) / 1e9;
                line.append(String.format(Locale.ROOT, " %s %.3f", e.key(), s));
                if (r > 0) times.get(e.key()).add(s);
            }
            log.println(line + "  (load " + MachineState.loadAverage() + stealSince(roundStart).map(st -> ", CPU stolen "
                    + st.describe()).orElse("") + ")");
        }
        MachineState.Steal steal = stealSince(measuredStart).orElse(null);
        String loadAfter = MachineState.loadAverage();
        double ceiling = MachineState.fmaCeilingGflops(threads);
        List<Participant> participants = new ArrayList<>();
        for (Entry e : entries) {
            participants.add(new Participant(e.setting(), e.engine(), TimedSampling.median(times.get(e.key())),
                    times.get(e.key()), e.runtime()));
        }
        return new Result(arch.name(), threads, rounds, participants, ratios(times), loadBefore, loadAfter, ceiling, steal);
    }

    private static Optional<MachineState.Steal> stealSince(Optional<MachineState.CpuTimes> start) {
        return start.flatMap(s -> MachineState.cpuTimes().flatMap(end -> end.stealSince(s)));
    }

    /** ours-bf16 / ours-S for every quantized S (speed-up over float), and ORT-S / ours-S for every S run by both. */
    static List<Ratio> ratios(Map<String, List<Double>> times) {
        List<Ratio> out = new ArrayList<>();
        String base = "viditq:bf16";
        for (String key : times.keySet()) {
            if (key.startsWith("viditq:") && !key.equals(base) && times.containsKey(base)) {
                out.add(ratio("speedup " + key.substring(7) + " over bf16", key, base, times));
            }
        }
        for (String key : times.keySet()) {
            if (!key.startsWith("onnxruntime:")) continue;
            String ours = "viditq:" + key.substring(12);
            if (times.containsKey(ours)) out.add(ratio("ours/onnxruntime speed " + key.substring(12), ours, key, times));
        }
        return out;
    }

    private static Ratio ratio(String name, String faster, String slower, Map<String, List<Double>> times) {
        List<Double> a = times.get(faster), b = times.get(slower);
        List<Double> per = new ArrayList<>();
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) per.add(b.get(i) / a.get(i));
        return new Ratio(name, faster, slower, per.isEmpty() ? Double.NaN : TimedSampling.median(per), per);
    }

    /** The human-readable table. */
    public static void print(Result r, PrintStream out) {
        out.printf(Locale.ROOT, "%n%s, %d threads, %d rounds (after 1 warm-up), load %s -> %s, FP32 FMA loop after: %.0f GFLOP/s%s%n",
                r.arch(), r.threads(), r.rounds(), r.loadBefore(), r.loadAfter(), r.fmaCeilingGflops(),
                r.cpuSteal() == null ? "" : ", CPU stolen in the measured rounds " + r.cpuSteal().describe());
        out.printf(Locale.ROOT, "%-24s %12s%n", "participant", "median s/fwd");
        for (Participant p : r.participants()) out.printf(Locale.ROOT, "%-24s %12.3f%n", p.key(), p.medianSeconds());
        for (Ratio q : r.ratios()) out.printf(Locale.ROOT, "%-42s %6.2fx  (per round: %s)%n", q.name(), q.median(),
                q.perRound().stream().map(v -> String.format(Locale.ROOT, "%.2f", v)).toList());
        r.participants().stream().filter(p -> p.engine().equals("onnxruntime")).findFirst()
                .ifPresent(p -> out.println("peer: " + p.runtime()));
    }
}
