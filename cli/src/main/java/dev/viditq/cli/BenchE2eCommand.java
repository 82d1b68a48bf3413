package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.bench.arch.Architecture;
import dev.viditq.bench.arch.RandomCheckpoint;
import dev.viditq.bench.e2e.E2eRequest;
import dev.viditq.bench.e2e.E2eResult;
import dev.viditq.bench.e2e.E2eSuite;
import dev.viditq.bench.e2e.InterleavedRun;
import dev.viditq.bench.e2e.Setting;
import dev.viditq.core.parallel.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "e2e", mixinStandardHelpOptions = true, description = {
        "Seconds per sampling step (CFG, batch 2), model bytes, peak RSS and the GEMM / attention / rest split of a",
        "real-size denoiser on random weights (written once as BF16 safetensors under the cache folder, loaded",
        "memory-mapped). Each (arch, setting, engine) runs in a fresh JVM so peak RSS figures do not mix.",
        "Example: ./viditq bench e2e --arch pixart-xl-2-256 --setting bf16 --steps 5 --threads 2 --json"})
final class BenchE2eCommand implements Callable<Integer> {
    @Option(names = "--arch", split = ",", paramLabel = "NAME[,NAME...]",
            description = "Architectures: ${COMPLETION-CANDIDATES}. Default: pixart-xl-2-256.",
            completionCandidates = ArchNames.class)
    List<String> archs = new ArrayList<>(List.of("pixart-xl-2-256"));

    @Option(names = "--setting", split = ",", paramLabel = "S[,S...]",
            description = "bf16, w8a8, w4a8, w4a8-mp (w8a8/w4a8: the quant module's ViDiT-Q presets; w4a8-mp: the "
                    + "benchmark's generic plan, viditq-w4a8 with 8-bit attention output projections, 4.5 bits). Default: bf16.")
    List<String> settings = new ArrayList<>(List.of("bf16"));

    @Option(names = "--steps", description = "Measured steps, after one warm-up step (default ${DEFAULT-VALUE}).")
    int steps = 3;

    @Option(names = "--threads", description = "Compute threads (default: all processors).")
    Integer threads;

    @Option(names = "--peer", paramLabel = "onnxruntime",
            description = "Also run the exported ONNX graph in ONNX Runtime (same shapes, intra-op threads = --threads, "
                    + "inter-op 1, sequential) and print ours/peer ratios.")
    String peer;

    @Option(names = "--interleaved", description = "Time every --setting (and with --peer, ONNX Runtime on each "
            + "setting's graph) in this JVM, one CFG forward pass each in turn per round (--steps rounds after a warm-up), "
            + "and report the medians of the per-round ratios (speed-up over bf16, ours/ONNX Runtime): robust to a "
            + "machine load that drifts between forked runs. No memory figures.")
    boolean interleaved;

    @Option(names = "--prepare-only", description = "Only write the random checkpoints, quantized folders (and with "
            + "--peer the ONNX exports) that a later run needs; measure nothing.")
    boolean prepareOnly;

    @Option(names = "--cache", paramLabel = "DIR",
            description = "Where random checkpoints and exported graphs are kept (default: -Dviditq.bench.cache, "
                    + "$VIDITQ_BENCH_CACHE or <tmpdir>/viditq-bench).")
    Path cache;

    @Option(names = "--no-fork", description = "Measure in this JVM (peak RSS then covers everything this process did).")
    boolean noFork;

    @Option(names = "--jfr", paramLabel = "DIR", description = "Record each measurement with Java Flight Recorder into DIR.")
    Path jfr;

    @Option(names = "--json", description = "Print {\"results\": [...]} on stdout; the table goes to stderr.")
    boolean json;

    @Override
    public Integer call() {
        List<Architecture> archList = archs.stream().map(Architecture::preset).toList();
        List<Setting> settingList = settings.stream().map(Setting::parse).toList();
        List<E2eRequest.Engine> engines = new ArrayList<>(List.of(E2eRequest.Engine.VIDITQ));
        if (peer != null) {
            if (!peer.equals("onnxruntime")) throw new IllegalArgumentException("--peer: only onnxruntime is supported, got " + peer);
            engines.add(E2eRequest.Engine.ONNXRUNTIME);
        }
        int t = threads != null ? threads : Parallel.threads();
        Path root = cache != null ? cache : RandomCheckpoint.defaultCacheRoot();
        PrintStream table = json ? System.err : System.out;
        if (prepareOnly) {
            boolean ok = E2eSuite.prepareAll(archList, settingList, engines, root, table);
            if (json) Json.print(Json.object().put("prepared", ok));
            return ok ? 0 : 1;
        }
        if (interleaved) {
            ObjectNode rootNode = Json.object();
            ArrayNode list = rootNode.putArray("results");
            for (Architecture arch : archList) {
                InterleavedRun.Result r = InterleavedRun.run(arch, settingList, peer != null, steps, t, root, table);
                InterleavedRun.print(r, table);
                list.add(E2eResult.JSON.valueToTree(r));
            }
            if (json) Json.print(rootNode);
            return 0;
        }
        List<E2eSuite.Outcome> outcomes = E2eSuite.run(archList, settingList, steps, t, engines, root, !noFork,
                jfrOptions(), table);
        if (json) printJson(outcomes);
        return outcomes.stream().allMatch(E2eSuite.Outcome::ok) ? 0 : 1;
    }

    private List<String> jfrOptions() {
        if (jfr == null) return List.of();
        return List.of("-XX:StartFlightRecording=settings=profile,filename=" + jfr.toAbsolutePath() + "/");
    }

    private static void printJson(List<E2eSuite.Outcome> outcomes) {
        ObjectNode root = Json.object();
        ArrayNode list = root.putArray("results");
        for (E2eSuite.Outcome o : outcomes) {
            if (o.ok()) {
                list.add(E2eResult.JSON.valueToTree(o.result()));
            } else {
                ObjectNode e = list.addObject();
                e.put("arch", o.request().arch().name());
                e.put("setting", o.request().setting().label());
                e.put("engine", o.request().engine().label());
                e.put("error", o.error());
            }
        }
        Json.print(root);
    }

    static final class ArchNames extends ArrayList<String> {
        ArchNames() {
            super(Architecture.PRESETS.keySet());
        }
    }
}
