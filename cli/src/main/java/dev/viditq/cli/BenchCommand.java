package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.bench.kernels.BenchConfig;
import dev.viditq.bench.kernels.BenchResult;
import dev.viditq.bench.kernels.KernelBenchmarks;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks. See the subcommands.",
        subcommands = {BenchCommand.KernelsCommand.class, BenchE2eCommand.class, BenchGemmPeerCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    @Command(name = "kernels", mixinStandardHelpOptions = true, description = "Throughput of each kernel next to the"
            + " machine's ceiling for that kind of work, both measured in this run: FP32 FMA GFLOP/s of a register-only"
            + " loop for compute kernels, copy GB/s for memory-bound ones. Prints value, ceiling and ratio; values are"
            + " medians after a warm-up, ceilings the best of several rounds. Takes a few minutes; the machine should"
            + " be otherwise idle.%nExample: ./viditq bench kernels --threads 1,2 --json")
    static final class KernelsCommand implements Callable<Integer> {
        @Option(names = "--json", description = "Print one JSON object {\"results\": [...]} on stdout; the table goes to stderr.")
        boolean json;

        @Option(names = "--threads", split = ",", paramLabel = "N",
                description = "Thread counts to measure (default: 1 and all processors).")
        List<Integer> threads;

        @Option(names = "--quick", description = "Small shapes, few repetitions: a smoke run, figures not meaningful.")
        boolean quick;

        @Option(names = "--only", split = ",", paramLabel = "NAME",
                description = "Run only these benchmarks (ceilings, gemm, attention, conv2d, elementwise, ...).")
        List<String> only = new ArrayList<>();

        @Override
        public Integer call() {
            List<Integer> counts = threads != null ? threads
                    : Parallel.threads() > 1 ? List.of(1, Parallel.threads()) : List.of(1);
            BenchConfig config = new BenchConfig(counts, quick);
            PrintStream table = json ? System.err : System.out;
            table.println("# float kernels: " + KernelBackend.get().name() + "; " + System.getProperty("java.vm.name")
                    + " " + Runtime.version() + "; " + Runtime.getRuntime().availableProcessors() + " processors"
                    + (quick ? "; --quick: figures not meaningful" : ""));
            table.println(KernelBenchmarks.header());
            List<BenchResult> results = KernelBenchmarks.run(config, only, r -> table.println(KernelBenchmarks.row(r)));
            if (json) {
                ObjectNode root = Json.object();
                ArrayNode list = root.putArray("results");
                for (BenchResult r : results) list.add(Json.MAPPER.valueToTree(r));
                Json.print(root);
            }
            return 0;
        }
    }
}
