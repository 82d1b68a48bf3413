package dev.viditq.eval.sweep;

import dev.viditq.quant.method.QuantMethods;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.TensorFile;
import dev.viditq.eval.run.Recipe;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.ShapesGenerator;
import dev.viditq.eval.shapes.ShapesPrompt;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.ModelIdentity;
import dev.viditq.quant.calib.PipelineDriver;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.checkpoint.QuantizedCheckpointReader;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./viditq sweep}: every quantization setting of a model measured the same way, in one run directory.
 * <ol>
 *   <li>The float model is checked and fingerprinted (sha256 of its denoiser checkpoint); RUNDIR/sweep.json records
 *       the model and the protocol, and a re-run with other ones is refused (its cached results would not compare).</li>
 *   <li>All configs are read before any work, so a typo fails in a second, not after an hour.</li>
 *   <li>Calibration (once, only when a setting needs it and is not done): the model's own recipe over the Shapes
 *       calibration split into RUNDIR/calibration.safetensors — {@link Calibrator}, which resumes an interrupted run.</li>
 *   <li>Each setting: quantized into RUNDIR/&lt;setting&gt;/model (written atomically by {@link QuantizedCheckpoint}),
 *       then evaluated in a fresh JVM ({@link SweepWorker}) so that its peak RSS is its own; float first, since its
 *       outputs are everyone's reference. RUNDIR/&lt;setting&gt;/result.json, written last and atomically, marks the
 *       setting finished: a re-run skips it (when its config is unchanged).</li>
 *   <li>RUNDIR/summary.json and summary.md: every setting's row and the quality bars ({@link SweepTable}).</li>
 * </ol>
 */
public final class Sweep {
    public static final String MANIFEST = "sweep.json", CALIBRATION = "calibration.safetensors", RESULT = "result.json",
            SUMMARY = "summary.json", SUMMARY_MD = "summary.md", MODEL_DIR = "model";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Hears what a sweep is doing (a progress display). */
    public interface Listener {
        Listener NONE = new Listener() {};

        /** A line for a person: a phase starts, a setting is reused, ... */
        default void message(String line) {}

        /** Calibration progress in denoising steps. */
        default void calibration(long done, long total) {}

        /** Samples of {@code setting} generated so far. */
        default void samples(String setting, int index, int settings, int done, int total) {}
    }

    private final SweepRequest req;
    private final Listener listener;
    private final ModelFolder folder;
    private final Kind kind;
    private Calibration calibration;      // read or made on first need
    private long floatParameters = -1;    // counted on first need
    private boolean hessians;             // some setting has GPTQ: the calibration records every layer's input Hessian

    private Sweep(SweepRequest req, Listener listener) {
        this.req = req;
        this.listener = listener;
        this.folder = checkModel(req.model());
        try (GenerationPipeline p = GenerationPipeline.load(req.model())) {
            this.kind = p.info().video() ? Kind.VIDEO : Kind.IMAGE;
        }
    }

    /**
     * Measures settings elsewhere (a cluster's tasks, each calling {@link #measureSetting}): calls {@code done} on this
     * thread with each setting's index and result as it finishes, in any order.
     */
    @FunctionalInterface
    public interface SettingRunner {
        void measure(List<Integer> settings, java.util.function.BiConsumer<Integer, ObjectNode> done);
    }

    /** Runs (or finishes) the sweep; returns {"model", ..., "settings": [result, ...], "checks": [...]}. */
    public static ObjectNode run(SweepRequest req, Listener listener) {
        return new Sweep(req, listener).run(null);
    }

    /**
     * As {@link #run(SweepRequest, Listener)}, the settings not finished earlier measured by {@code runner}: float first
     * (the others' reference), then the rest at once. Calibration, when a setting needs it, is made here first.
     */
    public static ObjectNode run(SweepRequest req, Listener listener, SettingRunner runner) {
        return new Sweep(req, listener).run(runner);
    }

    /** Measures setting {@code index} of {@code req} on this process (a cluster task) and writes its result.json. */
    public static ObjectNode measureSetting(SweepRequest req, int index) {
        Sweep sweep = new Sweep(req, Listener.NONE);
        SweepSetting s = req.settings().get(index);
        return sweep.measure(s, sweep.readConfigs().get(s.name()), index, req.out().resolve(s.name()));
    }

    private ObjectNode run(SettingRunner runner) {
        Map<String, QuantConfig> configs = readConfigs();
        this.hessians = configs.values().stream().anyMatch(c -> c != null && c.usesGptq());   // float has no config
        ObjectNode manifest = manifest();
        checkOrWriteManifest(manifest);
        checkSettingFolders();
        if (runner != null) return runElsewhere(runner, configs, manifest);
        List<ObjectNode> results = new ArrayList<>();
        for (int i = 0; i < req.settings().size(); i++) {
            SweepSetting s = req.settings().get(i);
            Path dir = req.out().resolve(s.name());
            ObjectNode done = finished(s, dir);
            if (done != null) {
                listener.message(String.format("[%d/%d] %s: finished earlier, reused (%s)", i + 1, req.settings().size(), s.name(), dir.resolve(RESULT)));
                results.add(done);
                continue;
            }
            checkModelUnchanged(manifest);
            results.add(measure(s, configs.get(s.name()), i, dir));
        }
        checkModelUnchanged(manifest);
        ObjectNode summary = SweepTable.summary(manifest, kind, results);
        writeAtomically(req.out().resolve(SUMMARY), json(summary));
        writeAtomically(req.out().resolve(SUMMARY_MD), SweepTable.markdown(summary));
        return summary;
    }

    private ObjectNode runElsewhere(SettingRunner runner, Map<String, QuantConfig> configs, ObjectNode manifest) {
        int n = req.settings().size();
        ObjectNode[] results = new ObjectNode[n];
        List<Integer> first = new ArrayList<>(), rest = new ArrayList<>();
        boolean needsCalibration = false;
        for (int i = 0; i < n; i++) {
            SweepSetting s = req.settings().get(i);
            results[i] = finished(s, req.out().resolve(s.name()));
            if (results[i] != null) {
                listener.message(String.format("[%d/%d] %s: finished earlier, reused", i + 1, n, s.name()));
                continue;
            }
            (s.isFloat() ? first : rest).add(i);
            needsCalibration |= !s.isFloat() && configs.get(s.name()).needsCalibration()
                    && !Files.isDirectory(req.out().resolve(s.name()).resolve(MODEL_DIR));
        }
        if (needsCalibration) calibration();   // once, here: the tasks only read it
        for (List<Integer> wave : List.of(first, rest)) {
            if (wave.isEmpty()) continue;
            checkModelUnchanged(manifest);
            listener.message("measuring " + wave.stream().map(i -> req.settings().get(i).name()).toList() + " as cluster tasks");
            runner.measure(wave, (i, r) -> {
                results[i] = r;
                listener.message(String.format("[%d/%d] %s: done", i + 1, n, req.settings().get(i).name()));
            });
        }
        checkModelUnchanged(manifest);
        ObjectNode summary = SweepTable.summary(manifest, kind, List.of(results));
        writeAtomically(req.out().resolve(SUMMARY), json(summary));
        writeAtomically(req.out().resolve(SUMMARY_MD), SweepTable.markdown(summary));
        return summary;
    }

    // ------------------------------------------------------------------ checks before any work

    private static ModelFolder checkModel(Path model) {
        if (!Files.isDirectory(model)) throw new IllegalArgumentException(model + ": no such model folder");
        ModelFolder folder = ModelFolder.resolve(model);
        if (QuantizedCheckpoint.isQuantized(model)) {
            throw new IllegalArgumentException(model + ": this model is already quantized; a sweep starts from the float model");
        }
        if (folder.textEncoder() == null) {
            throw new IllegalArgumentException(model + ": no text_encoder/; the Shapes benchmark needs a text-to-image or text-to-video folder");
        }
        return folder;
    }

    private Map<String, QuantConfig> readConfigs() {
        Map<String, QuantConfig> configs = new LinkedHashMap<>();
        for (SweepSetting s : req.settings()) {
            try {
                configs.put(s.name(), s.config());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("setting " + s.name() + ": " + e.getMessage(), e);
            }
        }
        return configs;
    }

    /** What every cached result in RUNDIR depends on besides its own config. */
    private ObjectNode manifest() {
        ObjectNode m = JSON.createObjectNode();
        m.put("model", req.model().toAbsolutePath().normalize().toString());
        m.put("model_sha256", sha256(Checkpoints.findIn(folder.denoiser())));
        m.put("split", req.split().id());
        m.put("count", intCount());
        m.put("seed", req.seed());
        m.put("batch", req.batch());
        if (req.steps() != null) m.put("steps", req.steps());
        else m.putNull("steps");
        if (req.sampler() != null) m.put("sampler", req.sampler());   // absent for the recipe's: older run dirs still match
        m.put("calibration_count", calibrationCount());
        return m;
    }

    private int calibrationCount() {
        return req.calibrationCount() != null ? req.calibrationCount() : ShapesGenerator.standardCount(kind, Split.CALIB);
    }

    private void checkOrWriteManifest(ObjectNode wanted) {
        Path file = req.out().resolve(MANIFEST);
        if (Files.exists(file)) {
            JsonNode earlier = readJson(file);
            List<String> differ = new ArrayList<>();
            Set<String> keys = new LinkedHashSet<>();
            wanted.fieldNames().forEachRemaining(keys::add);
            earlier.fieldNames().forEachRemaining(keys::add);   // a key written only then (a --sampler) differs too
            for (String k : keys) {
                // compared as JSON text: a long written and read back is an int node
                if (!wanted.path(k).toString().equals(earlier.path(k).toString())) {
                    differ.add(k + " " + shown(earlier.path(k)) + " -> " + shown(wanted.path(k)));
                }
            }
            if (!differ.isEmpty()) {
                throw new IllegalArgumentException(req.out() + " holds a sweep made with other inputs (" + String.join("; ", differ)
                        + "); its results would not compare: use another --out");
            }
            return;
        }
        try {
            Files.createDirectories(req.out());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + req.out() + ": " + e.getMessage(), e);
        }
        writeAtomically(file, json(wanted));
    }

    private static String shown(JsonNode value) {
        return value.isMissingNode() ? "(the recipe's)" : value.toString();
    }

    /** Weights replaced while a sweep runs would mix two models in one table (float reference of one, settings of another). */
    private void checkModelUnchanged(ObjectNode manifest) {
        String now = sha256(Checkpoints.findIn(folder.denoiser()));
        if (!now.equals(manifest.get("model_sha256").asText())) {
            throw new IllegalStateException(req.model() + ": the model's weights changed during the sweep (sha256 "
                    + manifest.get("model_sha256").asText() + " at the start, " + now + " now); start again with another --out");
        }
    }

    /** A setting folder made from another config under the same name would silently mix two settings: refuse. */
    private void checkSettingFolders() {
        for (SweepSetting s : req.settings()) {
            Path config = req.out().resolve(s.name()).resolve("setting.yaml");
            if (!Files.exists(config)) continue;
            try {
                if (!Files.readString(config).equals(s.text())) {
                    throw new IllegalArgumentException(req.out().resolve(s.name()) + " was made from another config than " + s.origin()
                            + "; remove that folder or use another --out");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The cached result of a finished setting, or null. */
    private ObjectNode finished(SweepSetting s, Path dir) {
        Path file = dir.resolve(RESULT);
        if (!Files.isRegularFile(file)) return null;
        JsonNode r = readJson(file);
        return r.path("config_sha256").asText().equals(s.fingerprint()) ? (ObjectNode) r : null;
    }

    // ------------------------------------------------------------------ one setting

    private ObjectNode measure(SweepSetting s, QuantConfig config, int index, Path dir) {
        int n = req.settings().size();
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("setting.yaml"), s.text());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
        Path evaluated = req.model();
        double quantizeSeconds = 0;
        if (!s.isFloat()) {
            evaluated = dir.resolve(MODEL_DIR);
            if (!Files.isDirectory(evaluated)) {
                listener.message(String.format("[%d/%d] %s: quantizing (%s)", index + 1, n, s.name(), s.origin()));
                long t0 = System.nanoTime();
                quantize(config, evaluated);
                quantizeSeconds = (System.nanoTime() - t0) / 1e9;
            }
        }
        listener.message(String.format("[%d/%d] %s: evaluating %s in a fresh JVM", index + 1, n, s.name(), evaluated));
        Path reference = s.isFloat() ? null : req.out().resolve(SweepSetting.FLOAT).resolve(Outputs.FILE);
        SweepWorker.Job job = new SweepWorker.Job(evaluated, s.name(), dir, req.split(), intCount(), req.seed(), req.batch(), req.steps(),
                req.sampler(), req.sheet(), reference, s.isFloat() ? null : req.model());
        JsonNode report = WorkerProcess.run(job, (done, total) -> listener.samples(s.name(), index, n, done, total));
        ObjectNode result = SweepTable.result(s, report, evaluated, modelBytes(evaluated),
                s.isFloat() ? null : storedBitsPerWeight(evaluated), floatParameters(), quantizeSeconds);
        writeAtomically(dir.resolve(RESULT), json(result));
        return result;
    }

    private int intCount() {
        return req.count() != null ? req.count() : ShapesGenerator.standardCount(kind, req.split());
    }

    private void quantize(QuantConfig config, Path target) {
        try (Denoiser denoiser = ModelLoader.load(folder.denoiser())) {
            Calibration cal = config.needsCalibration() ? calibration() : null;
            if (cal != null) cal.model().checkSameModel(ModelIdentity.of(denoiser), cal.describe());
            QuantPlan plan = QuantMethods.of(config.method()).plan(denoiser, cal, config);
            QuantizedModel quantized = Quantizer.quantize(denoiser, plan, cal);
            QuantizedCheckpoint.write(req.model(), quantized, target, false);
        }
    }

    /** RUNDIR/calibration.safetensors, made (or finished) on first need with the model's recipe. */
    private Calibration calibration() {
        if (calibration != null) return calibration;
        Path file = req.out().resolve(CALIBRATION);
        Recipe recipe = Recipe.of(req.model());
        try (GenerationPipeline pipeline = GenerationPipeline.load(req.model())) {
            List<String> prompts = ShapesGenerator.fixed(kind, Split.CALIB, calibrationCount()).stream().map(ShapesPrompt::caption).toList();
            PipelineDriver driver = new PipelineDriver(pipeline, prompts, req.steps() != null ? req.steps() : recipe.steps(), recipe.cfgScale(),
                    req.sampler() != null ? req.sampler() : recipe.sampler(), null, null, null, 0, GuidedModel.Batching.BATCHED);
            listener.message("calibrating over " + prompts.size() + " calibration prompts into " + file + (hessians ? " (with input Hessians, for GPTQ)" : ""));
            long total = (long) prompts.size() * driver.settings().steps();
            long[] done = {0};
            calibration = Calibrator.run(driver, file, new Calibrator.Progress() {
                @Override
                public void start(int n, int alreadyDone, int steps) {
                    done[0] = (long) alreadyDone * steps;
                    if (alreadyDone > 0) listener.message("calibration resumed after " + alreadyDone + " prompts");
                    listener.calibration(done[0], total);
                }

                @Override
                public void step(int prompt, dev.viditq.nn.sampling.Step step) {
                    listener.calibration(++done[0], total);
                }
            }, hessians);
        }
        return calibration;
    }

    // ------------------------------------------------------------------ sizes

    /** Bytes of the denoiser checkpoint on disk. */
    static long modelBytes(Path modelFolder) {
        try {
            return Files.size(Checkpoints.findIn(ModelFolder.resolve(modelFolder).denoiser()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stored bits per quantized weight of a quantized model folder ({@link QuantizedModel#storedBitsPerWeight}). */
    static double storedBitsPerWeight(Path modelFolder) {
        try (TensorFile file = Checkpoints.open(Checkpoints.findIn(ModelFolder.resolve(modelFolder).denoiser()))) {
            return QuantizedCheckpointReader.open(file).read().storedBitsPerWeight();
        }
    }

    /** Parameters of the float denoiser (its BF16 size is twice this). */
    private long floatParameters() {
        if (floatParameters < 0) {
            long p = 0;
            try (TensorFile f = Checkpoints.open(Checkpoints.findIn(folder.denoiser()))) {
                for (String name : f.names()) p += f.get(name).numel();
            }
            floatParameters = p;
        }
        return floatParameters;
    }

    // ------------------------------------------------------------------ files

    static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static String json(JsonNode node) {
        try {
            return JSON.writeValueAsString(node) + System.lineSeparator();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeAtomically(Path file, String text) {
        try {
            SafeOutput.write(file, tmp -> Files.writeString(tmp, text));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    static String now() {
        return Instant.now().toString();
    }
}
