package dev.viditq.cli;

import dev.viditq.core.kernels.Precision;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.run.BatchGenerator;
import dev.viditq.eval.run.EvalReport;
import dev.viditq.eval.run.EvalSettings;
import dev.viditq.eval.run.ShapesEval;
import dev.viditq.eval.shapes.Split;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", description = {
        "Evaluate a text-to-image or text-to-video model on the Shapes benchmark (docs/SHAPES.md): generate the prompts "
                + "of a fixed split, read each output with the analyzer and score caption alignment against the prompt's "
                + "ground-truth scene (overall and per attribute; videos also motion accuracy and temporal consistency).",
        "With --reference, the same prompts, seeds, batches and sampler settings also run through the reference model, and "
                + "fidelity to it is reported: PSNR (error pooled over all samples) and SSIM, per frame for videos.",
        "--prompts FILE evaluates the captions of a file instead: when every line is a caption of the Shapes grammar, each is "
                + "scored against the scene it states; free text has no ground truth, so only fidelity is scored.",
        "Fidelity is reported pooled and per sample (median, 10th percentile), and samples whose scene forked from the "
                + "reference's (PSNR more than 10 dB below the median and a different caption check) are named.",
        "Unset --sampler/--steps/--cfg take the model config's \"pipeline\" recipe, else the family defaults. The batch "
                + "starting at prompt i runs with seed S + i.",
        "Examples:",
        "  ./viditq eval --model assets/models/shapes-t2i --json",
        "  ./viditq eval --model out/t2i-w8a8 --reference assets/models/shapes-t2i --count 64",
        "  ./viditq eval --model assets/models/shapes-t2v --split calib --steps 10"})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model folder (float or quantized).")
    Path model;

    @Option(names = "--reference", description = "Model folder to measure fidelity against (e.g. the float model).")
    Path reference;

    @Option(names = "--split", defaultValue = "eval", paramLabel = "calib|eval", description = "Fixed Shapes split (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--prompts", paramLabel = "FILE", description = "Captions, one per line, instead of the split (no ground truth: fidelity only).")
    Path promptsFile;

    @Option(names = "--count", description = "Number of prompts (default: the split's standard size, eval 200 images / 64 videos; "
            + "or the whole prompts file).")
    Integer count;

    @Option(names = "--seed", defaultValue = "0", description = "Base seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--steps", description = "Denoising steps.")
    Integer steps;

    @Option(names = "--cfg", description = "Guidance scale.")
    Double cfg;

    @Option(names = "--size", description = "Output size HxW in pixels (default: the model's; the Shapes splits need 32x32).")
    String size;

    @Option(names = "--frames", description = "Frames of a video model (default: the model's; the Shapes splits need 16).")
    Integer frames;

    @Option(names = "--sampler", description = "Sampler name (iddpm, ddim, dpm-solver, dpmpp-2m, rflow, unipc).")
    String sampler;

    @Option(names = "--batch", defaultValue = "8", description = "Prompts per forward pass (default ${DEFAULT-VALUE}); changes "
            + "the noise of all but each batch's first prompt.")
    int batch;

    @Option(names = "--reference-precision", paramLabel = "fp32|bf16|auto", description = "Run the reference in this float "
            + "precision (default: the model's, --precision). With the model itself as reference it measures what bf16 "
            + "arithmetic changes: --model M --reference M --precision bf16 --reference-precision fp32.")
    String referencePrecision;

    @Option(names = "--save", paramLabel = "DIR", description = "Write the samples (PNG/GIF), contact sheets, samples.tsv and report.json here.")
    Path save;

    @Option(names = "--sheet", defaultValue = "16", description = "Samples on the contact sheet with --save (default ${DEFAULT-VALUE}).")
    int sheet;

    @Option(names = "--json", description = "Print one JSON object: alignment, alignment_by_attribute, count, psnr (pooled), "
            + "psnr_median, psnr_p10, psnr_per_sample, forked, low_psnr, fork_rule, ssim, motion_accuracy, temporal, "
            + "psnr_per_frame, seconds_per_sample, seconds_per_step, settings, timing.")
    boolean json;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Generate the batches as tasks on Apache Spark (local[N], "
            + "spark://host:port, ...); scores equal the single-process run's, timings are the workers' sums.")
    String spark;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Split s = ShapesCommand.split(split);
        if (count != null && count < 1) throw new IllegalArgumentException("--count must be positive, got " + count);
        if (save != null) SafeOutput.checkFolder(save, OutputPolicy.force, false);
        Integer[] hw = GenerateCommand.parseSize(size);
        ShapesEval.Request request = new ShapesEval.Request(model, reference, s, promptsFile, count,
                new EvalSettings(sampler, steps, cfg, seed, batch, hw[0], hw[1], frames), save, sheet,
                referencePrecision == null ? null : Precision.parse(referencePrecision));
        EvalReport report;
        if (spark != null) {
            try (Cluster cluster = Cluster.open(spark); Bars bars = new Bars()) {
                report = ShapesEval.run(request, bars, new DistributedEval(cluster, Distributed.commandLine(spec)));
            }
        } else {
            try (Bars bars = new Bars()) {
                report = ShapesEval.run(request, bars);
            }
        }
        if (json) Json.print(report.toJson());
        else System.out.print(report.toText());
        return 0;
    }

    /** One progress bar on stderr per model run (model, then reference), counting prompts. */
    static final class Bars implements BatchGenerator.Progress, AutoCloseable {
        private final Map<String, ProgressBar> bars = new HashMap<>();

        @Override
        public void batchDone(String what, int done, int total, double seconds) {
            ProgressBar bar = bars.computeIfAbsent(what, w -> new ProgressBarBuilder().setTaskName(w).setInitialMax(total)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" samples", 1).showSpeed().build());
            bar.stepTo(done);
            if (done == total) bar.close();
        }

        @Override
        public void close() {
            bars.values().forEach(ProgressBar::close);
        }
    }
}
