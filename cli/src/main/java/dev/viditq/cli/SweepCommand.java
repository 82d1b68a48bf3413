package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.sweep.Sweep;
import dev.viditq.eval.sweep.SweepRequest;
import dev.viditq.eval.sweep.SweepSetting;
import dev.viditq.eval.sweep.SweepTable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "sweep", mixinStandardHelpOptions = true, description = {
        "Quantize a float model with every given setting and measure each the same way, against the float model on the "
                + "same prompts and seeds: caption alignment (overall and per attribute), PSNR/SSIM against float, for videos "
                + "motion accuracy, temporal consistency and per-frame PSNR; denoiser bytes on disk, resident weight bytes, "
                + "peak RSS (each setting evaluated in a fresh JVM) and seconds per sampling step.",
        "Settings: float (always measured first: the reference), presets (docs/QUANT_CONFIG.md lists them; "
                + "an unknown name is refused with the list), config files, and --plan files "
                + "(configs with a bit_map), named by the file name without .yaml. When a setting has gptq, the calibration "
                + "records every layer's input Hessian too.",
        "Everything lands in --out: sweep.json, calibration.safetensors (made once, resumable), RUNDIR/<setting>/ "
                + "(model/, result.json, contact-sheet.png, samples/, outputs.safetensors), summary.json and summary.md. "
                + "A re-run skips finished settings; a run dir made from another model or protocol is refused.",
        "Examples:",
        "  ./viditq sweep --model assets/models/shapes-t2i --count 64 --out out/sweep-t2i",
        "  ./viditq sweep --model assets/models/shapes-t2v --settings float,viditq-w8a8 --plan docs/plans/shapes-t2v-w4a8-mp.yaml --count 16 --out out/sweep-t2v --json"})
final class SweepCommand implements Callable<Integer> {
    static final String DEFAULT_SETTINGS = "float,naive-w8a8,smoothquant-w8a8,viditq-w8a8,viditq-w6a6,viditq-w4a8,naive-w4a8";

    @Option(names = "--model", required = true, description = "Float model folder (with text encoder).")
    Path model;

    @Option(names = "--settings", split = ",", defaultValue = DEFAULT_SETTINGS,
            description = "Comma-separated: float, preset names, config files (default ${DEFAULT-VALUE}).")
    List<String> settings;

    @Option(names = "--plan", paramLabel = "FILE", description = "A mixed-precision plan (quant config YAML with a bit_map); repeatable.")
    List<Path> plans = List.of();

    @Option(names = "--count", description = "Eval prompts per setting (default: the split's standard size, 200 images / 64 videos).")
    Integer count;

    @Option(names = "--split", defaultValue = "eval", paramLabel = "calib|eval", description = "Fixed Shapes split (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--seed", defaultValue = "0", description = "Base seed; the batch starting at prompt i uses seed + i (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "8", description = "Prompts per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", description = "Sampling steps for calibration and evaluation (default: the model's recipe).")
    Integer steps;

    @Option(names = "--sampler", description = "Sampler for calibration and evaluation: iddpm, ddim, dpm-solver, dpmpp-2m, "
            + "rflow, unipc (default: the model's recipe).")
    String sampler;

    @Option(names = "--calibration-count", description = "Calibration prompts (default: the calibration split, 64 images / 16 videos).")
    Integer calibrationCount;

    @Option(names = "--sheet", defaultValue = "16", description = "Samples on each contact sheet (default ${DEFAULT-VALUE}).")
    int sheet;

    @Option(names = "--worker-memory", paramLabel = "OPTIONS", description = "JVM memory options of each setting's evaluation "
            + "process (default \"-Xmx1g -XX:MaxDirectMemorySize=2g\"; they bound the peak RSS measured).")
    String workerMemory;

    @Option(names = "--out", required = true, paramLabel = "RUNDIR", description = "Run directory (created; resumed when it exists).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object {model, settings: [{setting, alignment, psnr, ...}], checks} on stdout "
            + "(the markdown table then goes to stderr).")
    boolean json;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Measure the settings as tasks on Apache Spark (local[N], "
            + "spark://host:port, ...): float first, then the others at once, each evaluated in a fresh JVM on its worker; "
            + "RUNDIR must be a folder every worker sees.")
    String spark;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    SweepRequest request() {
        if (workerMemory != null) System.setProperty("viditq.sweep.worker-options", workerMemory);
        return new SweepRequest(model, SweepSetting.parse(settings, plans), ShapesCommand.split(split), count, seed, batch,
                steps, sampler, calibrationCount, sheet, out);
    }

    @Override
    public Integer call() {
        SafeOutput.checkFolder(out, OutputPolicy.force, false);
        SweepRequest req = request();
        ObjectNode summary;
        if (spark != null) {
            try (Cluster cluster = Cluster.open(spark); Bars bars = new Bars()) {
                summary = Sweep.run(req, bars, new DistributedSweep(cluster, Distributed.commandLine(spec)));
            }
        } else {
            try (Bars bars = new Bars()) {
                summary = Sweep.run(req, bars);
            }
        }
        String table = SweepTable.markdown(summary);
        if (json) {
            System.err.print(table);
            Json.print(summary);
        } else {
            System.out.print(table);
        }
        System.err.println("results in " + out + " (summary.json, summary.md; ./viditq report --runs " + out + " --out report.html)");
        return 0;
    }

    /** One progress bar for calibration and one per evaluated setting, on stderr. */
    static final class Bars implements Sweep.Listener, AutoCloseable {
        private ProgressBar bar;
        private String current;

        @Override
        public void message(String line) {
            closeBar();
            System.err.println(line);
        }

        @Override
        public void calibration(long done, long total) {
            show("calibrate", total, " steps").stepTo(done);
        }

        @Override
        public void samples(String setting, int index, int settings, int done, int total) {
            show(setting, total, " samples").stepTo(done);
            if (done == total) closeBar();
        }

        private ProgressBar show(String task, long total, String unit) {
            if (bar == null || !task.equals(current)) {
                closeBar();
                current = task;
                bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .setUnit(unit, 1).showSpeed().build();
            }
            return bar;
        }

        private void closeBar() {
            if (bar != null) {
                bar.close();
                System.err.println(); // the bar's consumer leaves the cursor on its line when stderr is not a terminal
            }
            bar = null;
            current = null;
        }

        @Override
        public void close() {
            closeBar();
        }
    }
}
