package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;
import dev.viditq.bench.arch.RandomCheckpoint;
import dev.viditq.bench.onnx.OnnxPeer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench e2e}: every (architecture, setting) pair, ours and optionally the ONNX Runtime peer, each in a fresh
 * JVM (or in this one with {@code fork = false}), with a table and the ours/peer ratios.
 */
public final class E2eSuite {
    /** One line of the report: a result, or why that pair could not be measured. */
    public record Outcome(E2eRequest request, E2eResult result, String error) {
        public boolean ok() {
            return result != null;
        }
    }

    private E2eSuite() {}

    /**
     * @param extraJvmOptions options for each forked JVM (ignored without fork)
     * @param table           where the human-readable table and progress go
     */
    public static List<Outcome> run(List<Architecture> archs, List<Setting> settings, int steps, int threads,
                                    List<E2eRequest.Engine> engines, Path cacheRoot, boolean fork,
                                    List<String> extraJvmOptions, PrintStream table) {
        List<Outcome> outcomes = new ArrayList<>();
        for (Architecture arch : archs) {
            RandomCheckpoint.ensure(arch, cacheRoot, table); // here, so that writing it never counts in a worker's RSS
            for (Setting setting : settings) {
                for (E2eRequest.Engine engine : engines) {
                    E2eRequest req = new E2eRequest(arch, setting, steps, threads, engine, cacheRoot);
                    String error = prepare(req, table);
                    if (error != null) { // quantized and exported here, so that neither counts in a worker's RSS
                        outcomes.add(new Outcome(req, null, error));
                        continue;
                    }
                    outcomes.add(measure(req, fork, extraJvmOptions, table));
                }
            }
        }
        printTable(outcomes, table);
        return outcomes;
    }

    /** {@code --prepare-only}: every folder (and export) the requests need; false when one could not be made. */
    public static boolean prepareAll(List<Architecture> archs, List<Setting> settings, List<E2eRequest.Engine> engines,
                                     Path cacheRoot, PrintStream log) {
        boolean ok = true;
        for (Architecture arch : archs) {
            RandomCheckpoint.ensure(arch, cacheRoot, log);
            for (Setting setting : settings) {
                for (E2eRequest.Engine engine : engines) {
                    ok &= prepare(new E2eRequest(arch, setting, 1, 1, engine, cacheRoot), log) == null;
                }
            }
        }
        return ok;
    }

    /** Makes the setting's model folder (and the peer's ONNX graph); returns why it could not, or null. */
    private static String prepare(E2eRequest req, PrintStream log) {
        try {
            Path dir = QuantizedSettings.prepare(req, RandomCheckpoint.ensure(req.arch(), req.cacheRoot(), log), log);
            if (req.engine() == E2eRequest.Engine.ONNXRUNTIME) OnnxPeer.ensureExport(dir, log);
            return null;
        } catch (RuntimeException e) {
            String error = e.getMessage() == null ? e.toString() : e.getMessage();
            log.println("error: " + req.arch().name() + " " + req.setting().label() + ": " + error);
            return error;
        }
    }

    private static Outcome measure(E2eRequest req, boolean fork, List<String> extraJvmOptions, PrintStream log) {
        try {
            E2eResult r = fork ? ForkedRun.run(req, extraJvmOptions, log) : E2eBenchmark.run(req, log);
            return new Outcome(req, r, null);
        } catch (RuntimeException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            log.println("error: " + req.arch().name() + " " + req.setting().label() + " (" + req.engine().label() + "): " + msg);
            return new Outcome(req, null, msg);
        }
    }

    static void printTable(List<Outcome> outcomes, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "%-18s %-8s %-11s %3s %9s %9s %10s %8s %8s %8s %9s %9s%n", "arch", "setting", "engine", "thr",
                "s/step", "model MB", "peakRSS MB", "gemm s", "attn s", "rest s", "gemm GF/s", "FMA GF/s");
        for (Outcome o : outcomes) {
            E2eRequest q = o.request();
            if (!o.ok()) {
                out.printf(Locale.ROOT, "%-18s %-8s %-11s %3d  not measured: %s%n", q.arch().name(), q.setting().label(),
                        q.engine().label(), q.threads(), o.error());
                continue;
            }
            E2eResult r = o.result();
            String split = r.split() == null ? String.format("%8s %8s %8s", "-", "-", "-")
                    : String.format(Locale.ROOT, "%8.3f %8.3f %8.3f", r.split().get("gemm"), r.split().get("attention"), r.split().get("rest"));
            out.printf(Locale.ROOT, "%-18s %-8s %-11s %3d %9.3f %9.1f %10.1f %s %9s %9.0f%n", r.arch(), r.setting(), r.engine(),
                    r.threads(), r.secPerStep(), r.modelBytes() / 1e6, r.peakRssBytes() / 1e6, split,
                    r.gemmGflops() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.gemmGflops()), r.fmaCeilingGflops());
        }
        for (Outcome ours : outcomes) {
            if (!ours.ok() || ours.request().engine() != E2eRequest.Engine.VIDITQ) continue;
            for (Outcome peer : outcomes) {
                if (!peer.ok() || peer.request().engine() != E2eRequest.Engine.ONNXRUNTIME) continue;
                if (!peer.result().arch().equals(ours.result().arch()) || !peer.result().setting().equals(ours.result().setting())) continue;
                out.printf(Locale.ROOT, "ours/onnxruntime %s %s: time %.2f, model bytes %.2f, peak RSS %.2f  (%s)%n",
                        ours.result().arch(), ours.result().setting(),
                        ours.result().secPerStep() / peer.result().secPerStep(),
                        (double) ours.result().modelBytes() / peer.result().modelBytes(),
                        (double) ours.result().peakRssBytes() / peer.result().peakRssBytes(), peer.result().runtime());
            }
        }
    }
}
