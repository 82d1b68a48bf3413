package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.mp.Sensitivity;
import dev.viditq.eval.mp.SensitivityEntry;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "sensitivity", mixinStandardHelpOptions = true, description = {
        "ViDiT-Q-MP sensitivity analysis (docs/MIXED_PRECISION.md): for every layer group (per block: self-attention, "
                + "temporal attention, cross-attention, MLP), every timestep range and every candidate precision, quantizes "
                + "that group alone in that range alone (everything else float; ViDiT-Q: per-channel weights, per-token "
                + "dynamic activations, balancing and rotation) and measures the metric the group is responsible for — "
                + "cross-attention: caption alignment; temporal attention: temporal consistency; self-attention and MLP: "
                + "fidelity (SSIM/PSNR) to float — plus the output MSE against float.",
        "Writes DIR/sensitivity.json (read by ./viditq search), sensitivity.csv and heat maps (heatmap-<candidate>-<metric>.png). "
                + "Finished entries are kept in DIR/entries.jsonl: an interrupted run restarted with the same arguments "
                + "skips them.",
        "Examples:",
        "  ./viditq calibrate --model assets/models/shapes-t2i --count 8 --out t2i.calib.safetensors",
        "  ./viditq sensitivity --model assets/models/shapes-t2i --calibration t2i.calib.safetensors --out out/sens-t2i",
        "  ./viditq sensitivity --model assets/models/shapes-t2v --calibration t2v.calib.safetensors --candidates W4A8,W8A8 --ranges 2 --out out/sens-t2v",
        "  ./viditq sensitivity --model assets/models/shapes-t2i --calibration t2i.calib.safetensors --around W4A8 --ranges 1 --out out/sens-t2i-w4"})
final class SensitivityCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Float model folder (with text encoder).")
    Path model;

    @Option(names = "--calibration", required = true, description = "Calibration file from ./viditq calibrate of this model.")
    Path calibration;

    @Option(names = "--candidates", split = ",", description = "Candidates to measure: WxAy (2..8 bits, the preset's "
            + "weight method), WxAy with method tokens (-gptq, -g<N> groups, -lr<R> low-rank rank, -rtn: e.g. W4A8-gptq-g64, "
            + "W4A8-lr16-gptq; GPTQ needs a calibration with --hessians), or float (default: W4A8,W6A8,W8A8).")
    List<String> candidates;

    @Option(names = "--ranges", defaultValue = "4", description = "Timestep ranges: the sampling steps split into this many "
            + "equal parts (default ${DEFAULT-VALUE}).")
    int ranges;

    @Option(names = "--groups", defaultValue = "block-kind", paramLabel = "block-kind|FILE", description = "Layer groups: "
            + "block-kind (per block: attention, temporal attention, cross-attention, MLP) or a YAML file of name -> regexes "
            + "(default ${DEFAULT-VALUE}).")
    String groups;

    @Option(names = "--count", description = "Prompts (default 8 images / 4 videos), all in one batch.")
    Integer count;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the batch (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--split", defaultValue = "calib", paramLabel = "calib|eval", description = "Shapes split of the prompts "
            + "(default ${DEFAULT-VALUE}: keep the eval split for evaluating the chosen plan).")
    String split;

    @Option(names = "--preset", defaultValue = "viditq-w4a8", paramLabel = "NAME|FILE", description = "Quantization method "
            + "(balancing, rotation, weight scheme) as a preset or config file; the bits come from the candidates "
            + "(default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--steps", description = "Sampling steps (default: the model's recipe).")
    Integer steps;

    @Option(names = "--sampler", description = "Sampler: iddpm, ddim, dpm-solver, dpmpp-2m, rflow, unipc (default: the "
            + "model's recipe). Per-step sensitivity depends on it: multistep samplers carry an error into later steps.")
    String sampler;

    @Option(names = "--max-minutes", description = "Stop starting entries after this many minutes and write what is measured "
            + "(complete: false; candidates lists those measured everywhere); a rerun resumes.")
    Double maxMinutes;

    @Option(names = "--around", paramLabel = "WxAy", description = "Measure at an operating point instead of in isolation: "
            + "every other group runs at this precision (e.g. W4A8) and each entry changes one group. Sampling is not "
            + "additive in the groups' errors, so plans searched around the precision they start from predict better. "
            + "Use with --ranges 1 (precision switches between steps hurt multistep samplers: docs/RESULTS.md).")
    String around;

    @Option(names = "--out", required = true, description = "Output folder (resumed when it holds a run with the same settings).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object on stdout: out, files, entries, measured, seconds, complete.")
    boolean json;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Measure the entries as tasks on Apache Spark (local[N], "
            + "spark://host:port, ...); each worker prepares the float run once. Same files as the single-process run but "
            + "for the timings.")
    String spark;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    Sensitivity.Request request() {
        return new Sensitivity.Request(model, calibration,
                candidates == null ? Sensitivity.DEFAULT_CANDIDATES : candidates, ranges, groups, count, seed,
                ShapesCommand.split(split), preset, steps, out, maxMinutes, around, sampler);
    }

    @Override
    public Integer call() {
        SafeOutput.checkFolder(out, OutputPolicy.force, false);
        Sensitivity.Request request = request();
        Sensitivity.Result result;
        if (spark != null) {
            try (Cluster cluster = Cluster.open(spark); Bar bar = new Bar()) {
                result = Sensitivity.run(request, bar, new DistributedSensitivity(cluster, Distributed.commandLine(spec)));
            }
        } else {
            try (Bar bar = new Bar()) {
                result = Sensitivity.run(request, bar);
            }
        }
        report(result);
        return 0;
    }

    private void report(Sensitivity.Result r) {
        if (json) {
            ObjectNode o = Json.object();
            o.put("out", out.toString());
            o.put("sensitivity", out.resolve("sensitivity.json").toString());
            var files = o.putArray("files");
            r.files().forEach(f -> files.add(f.toString()));
            o.put("entries", r.entries());
            o.put("measured", r.measured());
            o.put("seconds", r.seconds());
            o.put("complete", r.json().get("complete").asBoolean());
            o.set("float", r.json().get("float"));
            Json.print(o);
        } else {
            System.err.printf(Locale.ROOT, "wrote %s: %d entries (%d measured now) in %.1f s, %d files%n",
                    out.resolve("sensitivity.json"), r.entries(), r.measured(), r.seconds(), r.files().size());
        }
    }

    /** Progress on stderr: one bar over the entries, naming the last one measured. */
    static final class Bar implements Sensitivity.Progress, AutoCloseable {
        private ProgressBar bar;

        @Override
        public void started(int total, int done, double floatSeconds) {
            bar = new ProgressBarBuilder().setTaskName("sensitivity").setInitialMax(total)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" entries", 1).showSpeed().build();
            bar.stepTo(done);
            bar.setExtraMessage(String.format(Locale.ROOT, "float %.1f s%s", floatSeconds, done > 0 ? ", resumed after " + done : ""));
        }

        @Override
        public void entryDone(SensitivityEntry e, int done, int total) {
            bar.stepTo(done);
            bar.setExtraMessage(String.format(Locale.ROOT, "%s r%d %s: %s Δ %.3g, mse %.2e", e.group(), e.range(), e.precision(),
                    e.metric(), e.metricDelta(), e.mse()));
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
        }
    }
}
