package dev.viditq.quant.calib;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.StrictJson;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The statistics of a calibration run (one {@link LayerStats} per Linear), what they were recorded on
 * ({@link ModelIdentity}), how ({@link Settings}), over which prompts, and how many of those are done — so an
 * interrupted run resumes. Stored as safetensors: per layer {@code NAME.absmax} F32 [steps, 2, in],
 * {@code NAME.range} F32 [steps, 2, 2] (min, max), {@code NAME.rows} I64 [steps, 2]; {@code timesteps} F64 [steps];
 * the rest as JSON under the metadata key {@value #METADATA_KEY}. Optionally (when asked for, so files made without
 * them keep their bytes) the input Hessian of every layer, {@code NAME.hessian} F32 [in·(in+1)/2] ({@link LayerHessian}),
 * flagged by {@code "hessians": true} in the metadata.
 */
public final class Calibration {
    public static final String METADATA_KEY = "viditq.calibration";
    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = StrictJson.MAPPER;

    /** How the sampling loop ran; a resumed run must use the same. */
    public record Settings(String sampler, int steps, double cfgScale, long seed, String batching, int height, int width,
                           int frames) {}

    private final ModelIdentity model;
    private final Settings settings;
    private final List<String> prompts;
    private final double[] timesteps;
    private final Map<String, LayerStats> layers;
    private final Map<String, LayerHessian> hessians;   // empty when not collected
    private int done;
    private Path file;   // where it was read from or last written, for messages

    private Calibration(ModelIdentity model, Settings settings, List<String> prompts, double[] timesteps,
                        Map<String, LayerStats> layers, Map<String, LayerHessian> hessians, int done) {
        this.model = model;
        this.settings = settings;
        this.prompts = List.copyOf(prompts);
        this.timesteps = timesteps;
        this.layers = layers;
        this.hessians = hessians;
        this.done = done;
    }

    /** Empty statistics for every Linear of {@code model}, to be filled by a run over {@code prompts}. */
    public static Calibration start(ModelIdentity model, Settings settings, List<String> prompts) {
        return start(model, settings, prompts, false);
    }

    /** As {@link #start(ModelIdentity, Settings, List)}, collecting every layer's input Hessian when {@code hessians}. */
    public static Calibration start(ModelIdentity model, Settings settings, List<String> prompts, boolean hessians) {
        Map<String, LayerStats> layers = new LinkedHashMap<>();
        Map<String, LayerHessian> h = new LinkedHashMap<>();
        model.linears().forEach((name, shape) -> {
            layers.put(name, new LayerStats(name, shape[1], settings.steps()));
            if (hessians) h.put(name, new LayerHessian(name, shape[1]));
        });
        double[] t = new double[settings.steps()];
        Arrays.fill(t, Double.NaN);
        return new Calibration(model, settings, prompts, t, layers, h, 0);
    }

    public ModelIdentity model() { return model; }
    public Settings settings() { return settings; }
    public List<String> prompts() { return prompts; }
    /** Prompts whose statistics are included. */
    public int done() { return done; }
    public int steps() { return settings.steps(); }
    /** The file this was read from or last written to ("the calibration" before that), for messages. */
    public String describe() { return file == null ? "the calibration" : file.toString(); }
    public Map<String, LayerStats> layers() { return Collections.unmodifiableMap(layers); }

    /** The model time of every step (NaN for steps never run). */
    public double[] timesteps() {
        return timesteps.clone();
    }

    /** True when the file holds every layer's input Hessian. */
    public boolean hasHessians() {
        return !hessians.isEmpty();
    }

    /** The input Hessian of a layer; refused naming the file when it was not collected. */
    public LayerHessian hessian(String name) {
        if (hessians.isEmpty()) {
            throw new IllegalArgumentException(describe() + ": holds no input Hessians (GPTQ needs them): calibrate again with --hessians");
        }
        LayerHessian h = hessians.get(name);
        if (h == null) throw new IllegalArgumentException(describe() + ": no Hessian for layer '" + name + "'");
        return h;
    }

    /** The Hessian of a layer while collecting, or null when this run collects none. */
    LayerHessian hessianOrNull(String name) {
        return hessians.get(name);
    }

    public LayerStats layer(String name) {
        LayerStats s = layers.get(name);
        if (s == null) throw new IllegalArgumentException("the calibration has no statistics for layer '" + name + "'");
        return s;
    }

    /** Notes the model time of a step (the same for every prompt of a run). */
    public void recordTimestep(int step, double modelTime) {
        timesteps[step] = modelTime;
    }

    /**
     * Folds in the next prompt's part (its index must be {@link #done()}) and counts it done. Parts are appended in
     * prompt order: the Hessian totals are rounded after every prompt, so the order decides the bits.
     */
    public void append(CalibrationPart part) {
        if (part.prompt() != done) {
            throw new IllegalArgumentException("calibration part of prompt " + part.prompt() + " appended after " + done + " prompts");
        }
        if (part.hasHessians() != hasHessians()) {
            throw new IllegalArgumentException("calibration part " + (part.hasHessians() ? "with" : "without") + " Hessians for a run "
                    + (hasHessians() ? "with" : "without"));
        }
        if (!part.layers().keySet().equals(layers.keySet())) {
            throw new IllegalArgumentException("calibration part of prompt " + part.prompt() + " was recorded on other layers");
        }
        part.layers().forEach((name, stats) -> {
            layers.get(name).append(stats);
            LayerHessian h = hessians.get(name);
            if (h != null) h.appendRounded(part.hessianOrNull(name));
        });
        double[] t = part.timesteps();
        for (int s = 0; s < t.length && s < timesteps.length; s++) if (!Double.isNaN(t[s])) timesteps[s] = t[s];
        markDone(done + 1);
    }

    public void markDone(int prompts) {
        if (prompts < done || prompts > this.prompts.size()) throw new IllegalArgumentException("done " + prompts + " of " + this.prompts.size());
        done = prompts;
    }

    /**
     * Whether this (partial) file can be continued by a run of {@code wanted}: same model, same settings, and its
     * prompts a prefix of the wanted ones. Throws naming {@code file} and the difference otherwise.
     */
    public void checkResumableAs(Calibration wanted, Path file) {
        model.checkSameModel(wanted.model, file.toString());
        if (hasHessians() != wanted.hasHessians()) {
            throw new IllegalArgumentException(file + ": an earlier calibration run " + (hasHessians() ? "with" : "without")
                    + " input Hessians, now " + (wanted.hasHessians() ? "with" : "without") + "; remove the file or give another --out");
        }
        if (!settings.equals(wanted.settings)) {
            throw new IllegalArgumentException(file + ": an earlier calibration run with other settings (" + settings
                    + ", now " + wanted.settings + "); remove the file or give another --out");
        }
        for (int i = 0; i < done; i++) {
            if (i >= wanted.prompts.size() || !prompts.get(i).equals(wanted.prompts.get(i))) {
                throw new IllegalArgumentException(file + ": an earlier calibration run over other prompts (prompt " + i + " was '"
                        + prompts.get(i) + "'); remove the file or give another --out");
            }
        }
    }

    /** This partial state carried over to the prompt list of {@code wanted} (which may be longer). */
    public Calibration continuedAs(Calibration wanted) {
        return new Calibration(model, settings, wanted.prompts, timesteps.clone(), layers, hessians, done);
    }

    // ------------------------------------------------------------------ file

    /** Writes atomically (a crash leaves the previous file intact). */
    public void write(Path file) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        int steps = settings.steps();
        entries.add(SafetensorsWriter.Entry.of("timesteps", f64(timesteps, steps)));
        for (LayerStats s : layers.values()) {
            entries.add(SafetensorsWriter.Entry.of(s.name() + ".absmax", Tensor.of(s.absmaxArray(), steps, LayerStats.HALVES, s.k())));
            float[] range = new float[steps * LayerStats.HALVES * 2];
            for (int i = 0; i < steps * LayerStats.HALVES; i++) {
                range[2 * i] = s.minArray()[i];
                range[2 * i + 1] = s.maxArray()[i];
            }
            entries.add(SafetensorsWriter.Entry.of(s.name() + ".range", Tensor.of(range, steps, LayerStats.HALVES, 2)));
            entries.add(SafetensorsWriter.Entry.of(s.name() + ".rows", i64(s.rowsArray(), steps, LayerStats.HALVES)));
            LayerHessian h = hessians.get(s.name());
            if (h != null) {
                entries.add(SafetensorsWriter.Entry.of(s.name() + ".hessian", Tensor.of(h.packedUpper(), LayerHessian.packedSize(s.k()))));
            }
        }
        SafetensorsWriter.writeEntries(file, entries, Map.of(METADATA_KEY, metadata()));
        this.file = file;
    }

    private String metadata() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.set("model", model.toJson());
        o.set("settings", JSON.valueToTree(settings));
        o.putPOJO("prompts", prompts);
        o.put("done", done);
        if (hasHessians()) o.put("hessians", true);
        return o.toString();
    }

    /** Reads a calibration file; anything else (another safetensors, a damaged file) is refused naming it. */
    public static Calibration read(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such calibration file");
        try (TensorFile f = Safetensors.open(file)) {
            String meta = f.metadata().get(METADATA_KEY);
            if (meta == null) {
                throw new CheckpointException(file, "is not a calibration file (no '" + METADATA_KEY + "' metadata); "
                        + "make one with ./viditq calibrate");
            }
            JsonNode o = JSON.readTree(meta);
            if (o.path("format").asInt() != FORMAT) {
                throw new CheckpointException(file, "calibration format " + o.path("format") + ", this build reads " + FORMAT);
            }
            ModelIdentity model = ModelIdentity.fromJson(o.get("model"));
            Settings settings = JSON.treeToValue(o.get("settings"), Settings.class);
            List<String> prompts = new ArrayList<>();
            o.get("prompts").forEach(p -> prompts.add(p.asText()));
            int steps = settings.steps();
            double[] timesteps = readF64(f, "timesteps", steps);
            Map<String, LayerStats> layers = new LinkedHashMap<>();
            Map<String, LayerHessian> hessians = new LinkedHashMap<>();
            boolean withHessians = o.path("hessians").asBoolean(false);
            for (Map.Entry<String, int[]> e : model.linears().entrySet()) {
                int k = e.getValue()[1];
                layers.put(e.getKey(), readLayer(f, file, e.getKey(), k, steps));
                if (withHessians) {
                    float[] upper = need(f, file, e.getKey() + ".hessian", LayerHessian.packedSize(k)).toFloatArray();
                    hessians.put(e.getKey(), LayerHessian.of(e.getKey(), k, upper));
                }
            }
            Calibration cal = new Calibration(model, settings, prompts, timesteps, layers, hessians, o.get("done").asInt());
            cal.file = file;
            return cal;
        } catch (JsonProcessingException | RuntimeException e) {
            if (e instanceof CheckpointException c) throw c;
            throw new CheckpointException(file, "is not a readable calibration file: " + e.getMessage(), e);
        }
    }

    private static LayerStats readLayer(TensorFile f, Path file, String name, int k, int steps) {
        float[] absmax = need(f, file, name + ".absmax", steps, LayerStats.HALVES, k).toFloatArray();
        float[] range = need(f, file, name + ".range", steps, LayerStats.HALVES, 2).toFloatArray();
        Tensor rowsT = need(f, file, name + ".rows", steps, LayerStats.HALVES);
        int slots = steps * LayerStats.HALVES;
        float[] min = new float[slots], max = new float[slots];
        long[] rows = new long[slots];
        for (int i = 0; i < slots; i++) {
            min[i] = range[2 * i];
            max[i] = range[2 * i + 1];
            rows[i] = rowsT.getLong(i);
        }
        return LayerStats.of(name, k, steps, absmax, min, max, rows);
    }

    private static Tensor need(TensorFile f, Path file, String name, long... shape) {
        if (!f.contains(name)) throw CheckpointException.tensor(file, name, "is missing from the calibration file");
        Tensor t = f.get(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw CheckpointException.tensor(file, name, "has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    private static double[] readF64(TensorFile f, String name, int n) {
        Tensor t = f.get(name);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = t.data().getAtIndex(Tensor.F64_LE, i);
        return out;
    }

    private static Tensor f64(double[] v, long n) {
        Tensor t = Tensor.zeros(DType.F64, n);
        for (int i = 0; i < v.length; i++) t.data().setAtIndex(Tensor.F64_LE, i, v[i]);
        return t;
    }

    private static Tensor i64(long[] v, long... shape) {
        Tensor t = Tensor.zeros(DType.I64, shape);
        for (int i = 0; i < v.length; i++) t.data().setAtIndex(Tensor.I64_LE, i, v[i]);
        return t;
    }
}
