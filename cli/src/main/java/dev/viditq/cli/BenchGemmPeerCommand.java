package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.bench.onnx.GemmPeer;
import dev.viditq.core.parallel.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "gemm-peer", mixinStandardHelpOptions = true, description = {
        "One linear layer (M tokens, K = 1152, N = 1152 and 4608) ours vs ONNX Runtime on the same weights and threads:",
        "fp32, w8a8 (ORT DynamicQuantizeMatMul), w4a8 with groups of 128 (ORT MatMulNBits, accuracy_level 4);",
        "median over rounds that alternate both sides; prints the outputs' relative difference as a check.",
        "Example: ./viditq bench gemm-peer --threads 2 --rounds 7"})
final class BenchGemmPeerCommand implements Callable<Integer> {
    @Option(names = "--threads", description = "Threads for both (default: all processors).")
    Integer threads;

    @Option(names = "--rounds", description = "Measured rounds (default ${DEFAULT-VALUE}).")
    int rounds = 7;

    @Option(names = "--m", description = "Rows (tokens), default ${DEFAULT-VALUE}.")
    int m = 1024;

    @Option(names = "--json", description = "Print {\"results\": [...]} on stdout; the table goes to stderr.")
    boolean json;

    @Override
    public Integer call() {
        PrintStream table = json ? System.err : System.out;
        List<GemmPeer.Row> rows = GemmPeer.run(m, 1152, new int[]{1152, 4608}, threads != null ? threads : Parallel.threads(),
                rounds, table);
        GemmPeer.print(rows, table);
        if (json) {
            ObjectNode root = Json.object();
            ArrayNode list = root.putArray("results");
            for (GemmPeer.Row r : rows) {
                ObjectNode o = list.addObject();
                o.put("variant", r.variant());
                o.put("m", r.m());
                o.put("n", r.n());
                o.put("k", r.k());
                o.put("threads", r.threads());
                o.put("ours_seconds", r.oursSeconds());
                o.put("ours_gops", r.oursGops());
                if (!Double.isNaN(r.ortSeconds())) {
                    o.put("ort_seconds", r.ortSeconds());
                    o.put("ort_gops", r.ortGops());
                    o.put("ours_over_ort_time", r.oursSeconds() / r.ortSeconds());
                    o.put("relative_difference", r.relativeDifference());
                }
            }
            Json.print(root);
        }
        return 0;
    }
}
