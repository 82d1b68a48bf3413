package dev.viditq.eval.mp;

import dev.viditq.quant.method.QuantMethods;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.eval.run.EvalPrompt;
import dev.viditq.eval.run.EvalPrompts;
import dev.viditq.eval.run.Recipe;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GenerationRequest;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.nn.pipeline.PipelineBlock;
import dev.viditq.nn.pipeline.PromptEncoder;
import dev.viditq.nn.sampling.DiffusersSchedulerConfig;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.TextEncoder;
import dev.viditq.nn.vae.LatentDecoder;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.mp.MethodCandidate;
import dev.viditq.quant.mp.SensitivityPlans;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./viditq sensitivity}: ViDiT-Q-MP's metric-decoupled sensitivity analysis (docs/MIXED_PRECISION.md). For
 * every layer group, candidate precision and timestep range, the group alone is quantized in that range alone and
 * the prompts are generated again; the result is scored against the float run by the metric the group is
 * responsible for, plus the output MSE.
 *
 * <p>Costs are kept down three ways: weights are quantized once per (group, candidate) and shared by the ranges;
 * the float run's model outputs are recorded and replayed for the steps before a range (those steps are float in
 * every run), so a run computes only the steps from its range on; all prompts go through in one batch, on both
 * cores (the kernels and the analyzer run in parallel).
 */
public final class Sensitivity {
    public static final List<String> DEFAULT_CANDIDATES = List.of("W4A8", "W6A8", "W8A8");
    public static final String FORMAT = "viditq-sensitivity/1";
    /** Bits a float entry is counted with (weights stored as BF16). */
    public static final int FLOAT_BITS = MethodCandidate.FLOAT_BITS;

    /**
     * @param candidates  "WxAy" or "float"
     * @param groups      "block-kind" or a YAML file
     * @param count       prompts; null: 8 images / 4 videos
     * @param quantConfig a preset name or a YAML config file (method, balancing, rotation; bits come from the candidates)
     * @param steps       sampling steps; null: the model's recipe
     * @param maxMinutes  stop starting entries after this many minutes (the files then say complete: false); null: no limit
     * @param around      null: every other group runs in float (the paper's isolation); a precision like "W4A8": every
     *                    other group runs at it, so each entry measures one group changed at the operating point
     * @param sampler     sampler name; null: the model's recipe (per-step sensitivity depends on it: docs/MIXED_PRECISION.md)
     */
    public record Request(Path model, Path calibration, List<String> candidates, int ranges, String groups, Integer count,
                          long seed, Split split, String quantConfig, Integer steps, Path out, Double maxMinutes, String around,
                          String sampler) {
        public Request(Path model, Path calibration, List<String> candidates, int ranges, String groups, Integer count,
                       long seed, Split split, String quantConfig, Integer steps, Path out) {
            this(model, calibration, candidates, ranges, groups, count, seed, split, quantConfig, steps, out, null, null, null);
        }

        public Request(Path model, Path calibration, List<String> candidates, int ranges, String groups, Integer count,
                       long seed, Split split, String quantConfig, Integer steps, Path out, Double maxMinutes) {
            this(model, calibration, candidates, ranges, groups, count, seed, split, quantConfig, steps, out, maxMinutes, null, null);
        }

        public Request {
            if (maxMinutes != null && !(maxMinutes > 0)) throw new IllegalArgumentException("--max-minutes must be positive, got " + maxMinutes);
            if (candidates.isEmpty()) throw new IllegalArgumentException("--candidates is empty");
            if (ranges < 1) throw new IllegalArgumentException("--ranges must be at least 1, got " + ranges);
            if (count != null && count < 1) throw new IllegalArgumentException("--count must be positive, got " + count);
            if (steps != null && steps < 1) throw new IllegalArgumentException("--steps must be positive, got " + steps);
            if (split == Split.TRAIN) throw new IllegalArgumentException("--split must be calib or eval, not train");
            if (around != null && Candidate.parse(around).isFloat()) {
                throw new IllegalArgumentException("--around float is the default isolation; give a precision like W4A8 or leave it out");
            }
            candidates = List.copyOf(candidates);
        }
    }

    /**
     * A candidate to measure: a precision (W4A8: the preset's weight method), a precision with a weight method
     * (W4A8-gptq-g64, W4A8-lr16-gptq: {@link MethodCandidate} has the syntax), or {@code float}, which runs the group
     * unquantized (a noise-floor check).
     */
    public record Candidate(String name, int weightBits, int activationBits, MethodCandidate spec) {
        /** A bits-only candidate. */
        public Candidate(String name, int weightBits, int activationBits) {
            this(name, weightBits, activationBits, new MethodCandidate(name, weightBits, activationBits, null));
        }

        public boolean isFloat() {
            return spec.isFloat();
        }

        /** The precision a plan runs it at (float candidates have none: they are not quantized). */
        public Precision precision() {
            return spec.precision();
        }

        public static Candidate parse(String text) {
            MethodCandidate c = MethodCandidate.parse(text);
            return new Candidate(c.name(), c.weightBits(), c.activationBits(), c);
        }
    }

    /** Steps [first, end) of a range and the model times they cover. */
    public record Range(int index, int first, int end) {}

    /** Told as the run goes. */
    public interface Progress {
        Progress NONE = new Progress() { };

        /** After the float baseline, before the entries: {@code done} of {@code total} are already measured. */
        default void started(int total, int done, double floatSeconds) { }

        /** After each measured entry. */
        default void entryDone(SensitivityEntry entry, int done, int total) { }
    }

    /**
     * @param json       what sensitivity.json holds
     * @param measured   entries measured by this run (the rest were resumed)
     * @param files      every file written (sensitivity.json, .csv, heat maps)
     */
    public record Result(ObjectNode json, int entries, int measured, double seconds, List<Path> files) {}

    /** Names one entry: a group quantized at a candidate in a timestep range. */
    public record EntryKey(String group, int range, String candidate) implements java.io.Serializable {}

    /**
     * Measures entries elsewhere (a cluster's tasks, each with its own {@link Worker}): calls {@code done} on this thread
     * for each entry as it finishes, in any order.
     */
    @FunctionalInterface
    public interface Measurer {
        void measure(List<EntryKey> pending, java.util.function.Consumer<SensitivityEntry> done);
    }

    private Sensitivity() {}

    public static Result run(Request req, Progress progress) {
        return run(req, progress, null);
    }

    /**
     * As {@link #run(Request, Progress)}; with a {@code measurer} the entries still to measure are handed to it, and this
     * process keeps the store and the report. {@code --max-minutes} needs the single-process loop.
     */
    public static Result run(Request req, Progress progress, Measurer measurer) {
        if (measurer != null && req.maxMinutes() != null) {
            throw new IllegalArgumentException("--max-minutes stops the single-process loop; a distributed run is stopped with its cluster (a rerun resumes)");
        }
        try (Worker w = Worker.open(req, progress)) {
            return w.run.execute(w.start, measurer);
        }
    }

    /**
     * A sensitivity run prepared on one process: the model loaded, the float run (and with --around the operating point's)
     * generated and recorded for replay. Measures any entry alone, as the single-process loop measures it.
     */
    public static final class Worker implements AutoCloseable {
        private final Denoiser model;
        private final TextEncoder text;
        private final LatentDecoder vae;
        private final Run run;
        private final long start;
        private String weightsKey;
        private QuantizedModel weights;

        private Worker(Denoiser model, TextEncoder text, LatentDecoder vae, Run run, long start) {
            this.model = model;
            this.text = text;
            this.vae = vae;
            this.run = run;
            this.start = start;
        }

        public static Worker open(Request req) {
            return open(req, Progress.NONE);
        }

        static Worker open(Request req, Progress progress) {
            long start = System.nanoTime();
            List<Candidate> candidates = req.candidates().stream().map(Candidate::parse).distinct().toList();
            QuantConfig config = quantConfig(req.quantConfig());
            checkCandidates(config, candidates);
            ModelFolder folder = ModelFolder.resolve(req.model());
            if (folder.textEncoder() == null || folder.tokenizer() == null) {
                throw new IllegalArgumentException(req.model() + ": sensitivity runs text prompts, and this folder has no text_encoder/ + tokenizer");
            }
            if (!Files.isRegularFile(req.calibration())) throw new IllegalArgumentException(req.calibration() + ": no such calibration file");
            Calibration calibration = Calibration.read(req.calibration());
            checkHessians(config, candidates, calibration, req.calibration());
            Denoiser model = ModelLoader.load(folder.denoiser());
            TextEncoder text = null;
            LatentDecoder vae = null;
            try {
                text = TextEncoder.load(folder.textEncoder(), folder.tokenizer());
                vae = folder.vae() == null ? null : model.info().family().openVae(folder.vae());
                if (model.linears().values().stream().anyMatch(l -> l.storage().isQuantized())) {
                    throw new IllegalArgumentException(req.model() + ": this model is already quantized; measure the float model");
                }
                Run run = new Run(req, candidates, config, calibration, folder, model, text, vae, progress);
                run.prepare();
                return new Worker(model, text, vae, run, start);
            } catch (RuntimeException e) {
                closeAll(vae, text, model);
                throw e;
            }
        }

        /** Measures one entry (weights quantized for its group and candidate are kept for the next entry of both). */
        public SensitivityEntry measure(EntryKey key) {
            SensitivityGroups.Group g = run.groups.stream().filter(x -> x.name().equals(key.group())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no layer group " + key.group()));
            Candidate c = Candidate.parse(key.candidate());
            Range r = run.ranges.get(key.range());
            if (run.around != null && c.equals(run.around)) return run.unchangedEntry(g, c, r);
            String wk = g.name() + "\u0000" + c.name();
            if (!wk.equals(weightsKey)) {
                weights = c.isFloat() ? null : Quantizer.quantize(model, run.groupPlan(g, c, run.anyPartialRange()), run.calibration);
                weightsKey = wk;
            }
            return run.measure(g, c, r, weights, run.reference);
        }

        @Override
        public void close() {
            closeAll(vae, text, model);
        }

        private static void closeAll(AutoCloseable... all) {
            RuntimeException failure = null;
            for (AutoCloseable a : all) {
                if (a == null) continue;
                try {
                    a.close();
                } catch (Exception e) {
                    if (failure == null) failure = new IllegalStateException(e);
                }
            }
            if (failure != null) throw failure;
        }
    }

    private static QuantConfig quantConfig(String spec) {
        if (Presets.NAMES.contains(spec)) return QuantConfigReader.preset(spec);
        Path file = Path.of(spec);
        if (Files.isRegularFile(file)) return QuantConfigReader.read(file);
        throw new IllegalArgumentException("--preset " + spec + ": neither a preset (" + String.join(", ", Presets.NAMES)
                + ") nor a config file that exists");
    }

    private static void checkCandidates(QuantConfig config, List<Candidate> candidates) {
        if (config.weight().granularity() != QuantConfig.WeightGranularity.GROUP) return;
        for (Candidate c : candidates) {
            if (!c.isFloat() && !c.spec().explicit() && c.weightBits() > 4) {
                throw new IllegalArgumentException("candidate " + c.name() + ": the config has per-group weight scales, which exist only "
                        + "for weights of at most 4 bits; name a method, e.g. " + c.name() + "-rtn (per channel)");
            }
        }
    }

    /** GPTQ candidates (or a GPTQ preset) need the calibration's input Hessians; refused up front, naming the flag. */
    private static void checkHessians(QuantConfig config, List<Candidate> candidates, Calibration calibration, Path file) {
        if (calibration.hasHessians()) return;
        for (Candidate c : candidates) {
            if (!c.isFloat() && c.spec().resolve(config).gptq() != null) {
                throw new IllegalArgumentException("candidate " + c.name() + " quantizes with GPTQ, which needs every layer's input Hessian, and "
                        + file + " holds none: calibrate again with ./viditq calibrate --hessians");
            }
        }
    }

    /** {@code steps} split into {@code n} contiguous ranges, the first ones a step longer when n does not divide steps. */
    public static List<Range> ranges(int steps, int n) {
        if (n > steps) throw new IllegalArgumentException("--ranges " + n + " is more than the " + steps + " sampling steps");
        List<Range> out = new ArrayList<>();
        int first = 0;
        for (int i = 0; i < n; i++) {
            int len = steps / n + (i < steps % n ? 1 : 0);
            out.add(new Range(i, first, first + len));
            first += len;
        }
        return List.copyOf(out);
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
            return HexFormat.of().formatHex(d.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One sensitivity run: the loaded model, the float baseline, the loop over entries. */
    private static final class Run {
        private final Request req;
        private final List<Candidate> candidates;
        private final QuantConfig config;
        private final Denoiser model;
        private final SensitivityReplay replay;
        private final GenerationPipeline pipeline;
        private final Progress progress;
        private final QuantPlan fullPlan;
        private final Calibration calibration;   // its Hessians when the config has GPTQ
        private final List<SensitivityGroups.Group> groups;
        private final List<EvalPrompt> prompts;
        private final GenerationRequest request;
        private final GenerationPipeline.Settings settings;
        private final List<Range> ranges;
        private final ExecutionMode mode = ExecutionMode.fromEnvironment();
        private final String modelSha;
        private final String calibrationSha;
        private final Kind kind;
        /** The operating point every other group runs at, or null (float). */
        private final Candidate around;
        private final SensitivityPlans plans;

        Run(Request req, List<Candidate> candidates, QuantConfig config, Calibration calibration, ModelFolder folder, Denoiser model,
            TextEncoder text, LatentDecoder vae, Progress progress) {
            this.req = req;
            this.candidates = candidates;
            this.config = config;
            this.model = model;
            this.progress = progress;
            this.replay = new SensitivityReplay(model);
            this.pipeline = new GenerationPipeline(replay, vae, PromptEncoder.of(text), schedulerConfig(folder),
                    PipelineBlock.read(folder.denoiser().resolve("config.json")));
            // the method's plan for every layer gives the balancing vectors and rotations; bits are set per candidate
            this.fullPlan = QuantMethods.of(config.method()).plan(model, calibration, config);
            this.calibration = calibration;
            this.groups = SensitivityGroups.resolve(req.groups(), List.copyOf(fullPlan.layers().keySet()), shapes(fullPlan));
            this.kind = model.info().video() ? Kind.VIDEO : Kind.IMAGE;
            int count = req.count() != null ? req.count() : kind == Kind.VIDEO ? 4 : 8;
            this.prompts = EvalPrompts.shapes(kind, req.split(), count);
            Recipe recipe = Recipe.of(req.model());
            this.request = GenerationRequest.builder().prompts(prompts.stream().map(EvalPrompt::caption).toList())
                    .sampler(req.sampler() != null ? req.sampler() : recipe.sampler())
                    .steps(req.steps() != null ? req.steps() : recipe.steps()).cfgScale(recipe.cfgScale())
                    .seed(req.seed()).build();
            this.settings = pipeline.resolve(request);
            this.ranges = Sensitivity.ranges(settings.steps(), req.ranges());
            this.modelSha = sha256(Checkpoints.findIn(folder.denoiser()));
            this.calibrationSha = sha256(req.calibration());
            this.around = req.around() == null ? null : Candidate.parse(req.around());
            if (around != null && around.spec().explicit()) {
                throw new IllegalArgumentException("--around " + around.name() + ": the operating point is bits under the preset's method (e.g. W4A8)");
            }
            if (around != null && ranges.size() > 1 && candidates.stream().anyMatch(c -> c.spec().explicit())) {
                // outside its range the group would run at the operating point with weights of the candidate's method
                throw new IllegalArgumentException("--around with candidates that differ in method ("
                        + candidates.stream().filter(c -> c.spec().explicit()).map(Candidate::name).toList()
                        + ") measures whole runs: give --ranges 1");
            }
            if (around != null && candidates.stream().anyMatch(Candidate::isFloat)) {
                throw new IllegalArgumentException("--around " + around.name() + ": candidates must be quantized precisions (float is the "
                        + "isolation mode's noise floor and no choice of the search)");
            }
            this.plans = new SensitivityPlans(fullPlan, settings.steps(), around == null ? null : around.precision());
        }

        private static com.fasterxml.jackson.databind.JsonNode schedulerConfig(ModelFolder folder) {
            if (folder.schedulerConfig() == null) return null;
            try {
                return DiffusersSchedulerConfig.parse(Files.readString(folder.schedulerConfig()));
            } catch (IOException e) {
                throw new UncheckedIOException(folder.schedulerConfig() + ": " + e.getMessage(), e);
            }
        }

        private static Map<String, int[]> shapes(QuantPlan plan) {
            Map<String, int[]> out = new LinkedHashMap<>();
            for (LayerPlan lp : plan.layers().values()) out.put(lp.name(), new int[]{lp.out(), lp.in()});
            return out;
        }

        private SensitivityScoring.Outcome reference, base;
        private double floatSeconds;

        /** The float run (recorded for replay unless --around) and with --around the operating point's run (recorded). */
        void prepare() {
            long t0 = System.nanoTime();
            if (around == null) replay.record(); // the float run is also what earlier steps replay
            reference = generate();
            floatSeconds = (System.nanoTime() - t0) / 1e9;
            if (around != null) { // every group at the operating point: what entries replay, and the unchanged entry
                Quantizer.quantize(model, plans.uniform(around.precision(), around.name()), calibration).install(model, mode, false);
                replay.record();
                base = generate();
            }
        }

        /** The entry of the operating point's own precision with --around: nothing changes, so nothing is generated. */
        SensitivityEntry unchangedEntry(SensitivityGroups.Group g, Candidate c, Range r) {
            return SensitivityScoring.entry(reference, base, g, r.index(), c.name(), c.weightBits(), c.activationBits(), 0);
        }

        Result execute(long start, Measurer measurer) {
            SensitivityStore store = SensitivityStore.open(req.out(), settingsJson());
            int total = groups.size() * candidates.size() * ranges.size();
            int done = 0, measured = 0;
            for (SensitivityGroups.Group g : groups) for (Candidate c : candidates) for (Range r : ranges) {
                if (store.has(SensitivityEntry.key(g.name(), r.index(), c.name()))) done++;
            }
            progress.started(total, done, floatSeconds);
            SensitivityReport report = new SensitivityReport(this::header, store, groups, candidates, ranges, reference, floatSeconds);
            if (measurer != null) return executeElsewhere(start, measurer, store, report, done, total);
            // candidate by candidate (in the order given): a time-boxed run leaves whole candidates measured
            boolean stopped = false;
            for (Candidate c : candidates) {
                for (SensitivityGroups.Group g : groups) {
                    QuantizedModel weights = null; // quantized on first need, shared by the ranges
                    for (Range r : ranges) {
                        if (store.has(SensitivityEntry.key(g.name(), r.index(), c.name()))) continue;
                        if (req.maxMinutes() != null && (System.nanoTime() - start) / 60e9 > req.maxMinutes()) {
                            stopped = true;
                            break;
                        }
                        SensitivityEntry e;
                        if (around != null && c.equals(around)) {
                            e = unchangedEntry(g, c, r);
                        } else {
                            if (weights == null && !c.isFloat()) weights = Quantizer.quantize(model, groupPlan(g, c, anyPartialRange()), calibration);
                            e = measure(g, c, r, weights, reference);
                        }
                        store.add(e);
                        measured++;
                        done++;
                        report.write(false, false, (System.nanoTime() - start) / 1e9, measured);
                        progress.entryDone(e, done, total);
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            boolean complete = !stopped && store.size() >= total;
            List<Path> files = report.write(complete, true, seconds, measured);
            return new Result(report.json(complete, seconds, measured), report.entries().size(), measured, seconds, files);
        }

        /** The entries not in the store handed to {@code measurer}, in the single-process loop's order. */
        private Result executeElsewhere(long start, Measurer measurer, SensitivityStore store, SensitivityReport report, int done, int total) {
            List<EntryKey> pending = new ArrayList<>();
            for (Candidate c : candidates) for (SensitivityGroups.Group g : groups) for (Range r : ranges) {
                if (!store.has(SensitivityEntry.key(g.name(), r.index(), c.name()))) pending.add(new EntryKey(g.name(), r.index(), c.name()));
            }
            int[] counts = {done, 0};
            measurer.measure(pending, e -> {
                store.add(e);
                counts[0]++;
                counts[1]++;
                report.write(false, false, (System.nanoTime() - start) / 1e9, counts[1]);
                progress.entryDone(e, counts[0], total);
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            boolean complete = store.size() >= total;
            List<Path> files = report.write(complete, true, seconds, counts[1]);
            return new Result(report.json(complete, seconds, counts[1]), report.entries().size(), counts[1], seconds, files);
        }

        private SensitivityEntry measure(SensitivityGroups.Group g, Candidate c, Range r, QuantizedModel weights,
                                         SensitivityScoring.Outcome reference) {
            long t0 = System.nanoTime();
            Map<String, Linear> linears = model.linears();
            Map<String, Linear.Executor> original = new LinkedHashMap<>();
            for (String name : g.layers()) original.put(name, linears.get(name).executor());
            SensitivityScoring.Outcome outcome;
            try {
                if (!c.isFloat()) inRange(weights, g, c, r).install(model, mode, false);
                replay.replayBefore(r.first());
                outcome = generate();
            } finally {
                original.forEach((name, ex) -> linears.get(name).setExecutor(ex));
            }
            return SensitivityScoring.entry(reference, outcome, g, r.index(), c.name(), c.weightBits(), c.activationBits(),
                    (System.nanoTime() - t0) / 1e9);
        }

        private SensitivityScoring.Outcome generate() {
            GenerationPipeline.Generation gen = pipeline.generate(request, StepListener.NONE);
            return SensitivityScoring.outcome(gen.pixels(), prompts);
        }

        /**
         * The group's layers at the candidate's bits in {@code range} (null: every step); outside it float, or the
         * operating point with {@code --around}.
         */
        private QuantPlan groupPlan(SensitivityGroups.Group g, Candidate c, Range range) {
            return plans.group(g.name(), g.layers(), c.precision(), c.spec().explicit() ? c.spec().resolve(config) : null,
                    range == null ? 0 : range.first(), range == null ? settings.steps() : range.end());
        }

        /**
         * A range short of all steps when there is one (its plan needs every bit width the group's weights are stored at:
         * the candidate's and, with --around, the operating point's), else null.
         */
        private Range anyPartialRange() {
            return ranges.size() > 1 ? ranges.get(0) : null;
        }

        /** The weights quantized once, under the plan of one range (the plan decides the float steps). */
        private QuantizedModel inRange(QuantizedModel weights, SensitivityGroups.Group g, Candidate c, Range r) {
            return SensitivityPlans.replanned(weights, groupPlan(g, c, r));
        }

        /** Everything an entry depends on, except the candidates: a resumed run must match it exactly. */
        private ObjectNode settingsJson() {
            ObjectNode o = SensitivityStore.JSON.createObjectNode();
            o.put("format", FORMAT);
            o.put("model_sha256", modelSha);
            o.put("calibration_sha256", calibrationSha);
            o.put("quant_config", req.quantConfig());
            if (around != null) o.put("around", around.name());
            o.put("execution", mode.name().toLowerCase(java.util.Locale.ROOT));
            o.put("sampler", settings.sampler());
            o.put("steps", settings.steps());
            o.put("cfg_scale", settings.cfgScale());
            o.put("split", req.split().id());
            o.put("count", prompts.size());
            o.put("seed", req.seed());
            ArrayNode rs = o.putArray("ranges");
            for (Range r : ranges) rs.addArray().add(r.first()).add(r.end());
            ObjectNode gs = o.putObject("groups");
            for (SensitivityGroups.Group g : groups) {
                ArrayNode ls = gs.putArray(g.name());
                g.layers().forEach(ls::add);
            }
            return o;
        }

        /** The top of sensitivity.json, before float, entries and timing. */
        private ObjectNode header() {
            ObjectNode o = SensitivityStore.JSON.createObjectNode();
            o.put("format", FORMAT);
            o.put("complete", false);
            o.put("model", req.model().toString());
            o.put("model_sha256", modelSha);
            o.put("calibration", req.calibration().toString());
            o.put("calibration_sha256", calibrationSha);
            o.put("kind", kind.id());
            o.put("family", model.info().family().id());
            o.put("preset", req.quantConfig());
            if (around != null) o.put("around", around.name()); // entries: one group changed, the others at this precision
            else o.putNull("around"); // entries: one group quantized, the others float
            ObjectNode method = o.putObject("method");
            method.put("name", config.method().id());
            method.put("weight_symmetric", config.weight().symmetric());
            method.put("weight_granularity", config.weight().granularity().name().toLowerCase(java.util.Locale.ROOT));
            method.put("activation", (config.activation().dynamic() ? "dynamic " : "static ")
                    + config.activation().granularity().name().toLowerCase(java.util.Locale.ROOT));
            if (config.balancing() != null) method.put("balancing_alpha", config.balancing().alpha());
            else method.putNull("balancing_alpha");
            method.put("rotation", config.rotation() != null);
            o.put("execution", mode.name().toLowerCase(java.util.Locale.ROOT));
            o.put("sampler", settings.sampler());
            o.put("steps", settings.steps());
            o.put("cfg_scale", settings.cfgScale());
            o.put("split", req.split().id());
            o.put("count", prompts.size());
            o.put("seed", req.seed());
            ArrayNode cs = o.putArray("candidates");
            candidates.stream().filter(c -> !c.isFloat()).forEach(c -> cs.add(c.name()));
            ArrayNode rs = o.putArray("ranges");
            for (Range r : ranges) {
                ObjectNode n = rs.addObject();
                n.put("index", r.index());
                n.putArray("steps").add(r.first()).add(r.end());
                double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
                for (int s = r.first(); s < r.end(); s++) {
                    lo = Math.min(lo, replay.timestep(s));
                    hi = Math.max(hi, replay.timestep(s));
                }
                n.putArray("timesteps").add(lo).add(hi);
            }
            ArrayNode gs = o.putArray("groups");
            for (SensitivityGroups.Group g : groups) {
                ObjectNode n = gs.addObject();
                n.put("name", g.name());
                n.put("kind", g.kind().id());
                n.put("block", g.block());
                ArrayNode ls = n.putArray("layers");
                g.layers().forEach(ls::add);
                n.put("weight_params", g.weightParams());
            }
            return o;
        }
    }
}
