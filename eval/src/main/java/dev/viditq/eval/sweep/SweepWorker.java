package dev.viditq.eval.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.eval.run.BatchGenerator;
import dev.viditq.eval.run.EvalFiles;
import dev.viditq.eval.run.EvalPrompt;
import dev.viditq.eval.run.EvalPrompts;
import dev.viditq.eval.run.EvalReport;
import dev.viditq.eval.run.EvalSettings;
import dev.viditq.eval.run.FidelityScores;
import dev.viditq.eval.run.Recipe;
import dev.viditq.eval.run.Sample;
import dev.viditq.eval.run.ShapesScores;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.runtime.QuantizedModel;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The evaluation of one sweep setting, run by {@link Sweep} in a fresh JVM so that the peak resident set it reports
 * (VmHWM) is this setting's alone: the model folder's prompts generated with the model's recipe, scored by the
 * analyzer, compared with the float setting's saved outputs ({@link Outputs}), and written to the setting's folder
 * ({@link EvalFiles}: samples, contact sheets, samples.tsv, report.json; plus outputs.safetensors). Talks to the
 * parent through stdout lines: {@value #PROGRESS} done total seconds, and one {@value #RESULT} JSON line at the end
 * (or {@value #ERROR} message).
 */
public final class SweepWorker {
    static final String PROGRESS = "@@sweep-progress ", RESULT = "@@sweep-result ", ERROR = "@@sweep-error ";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the parent asks for; {@link #toArgs} / {@link #parse} carry it across the process boundary. */
    record Job(Path model, String name, Path out, Split split, int count, long seed, int batch, Integer steps, String sampler,
               int sheet, Path reference, Path referenceModel) {
        List<String> toArgs() {
            List<String> a = new java.util.ArrayList<>(List.of("--model", model.toString(), "--name", name, "--out", out.toString(),
                    "--split", split.id(), "--count", Integer.toString(count), "--seed", Long.toString(seed),
                    "--batch", Integer.toString(batch), "--sheet", Integer.toString(sheet)));
            if (steps != null) a.addAll(List.of("--steps", steps.toString()));
            if (sampler != null) a.addAll(List.of("--sampler", sampler));
            if (reference != null) a.addAll(List.of("--reference", reference.toString(), "--reference-model", referenceModel.toString()));
            return a;
        }

        static Job parse(String[] args) {
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) m.put(args[i], args[i + 1]);
            Split split = switch (m.get("--split")) {
                case "calib" -> Split.CALIB;
                case "eval" -> Split.EVAL;
                default -> throw new IllegalArgumentException("split " + m.get("--split"));
            };
            return new Job(Path.of(m.get("--model")), m.get("--name"), Path.of(m.get("--out")), split, Integer.parseInt(m.get("--count")),
                    Long.parseLong(m.get("--seed")), Integer.parseInt(m.get("--batch")),
                    m.containsKey("--steps") ? Integer.valueOf(m.get("--steps")) : null, m.get("--sampler"),
                    Integer.parseInt(m.get("--sheet")),
                    m.containsKey("--reference") ? Path.of(m.get("--reference")) : null,
                    m.containsKey("--reference-model") ? Path.of(m.get("--reference-model")) : null);
        }
    }

    private SweepWorker() {}

    public static void main(String[] args) {
        try {
            ObjectNode result = run(Job.parse(args));
            System.out.println(RESULT + JSON.writeValueAsString(result));
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            String msg = t.getMessage() == null ? t.toString() : t.getMessage();
            System.out.println(ERROR + msg.replace('\n', ' '));
            t.printStackTrace(System.err);
            System.out.flush();
            System.exit(2);
        }
    }

    static ObjectNode run(Job job) {
        long start = System.nanoTime();
        String loadBefore = ProcessFacts.loadAverage();
        Recipe recipe = Recipe.of(job.model());
        EvalSettings settings = new EvalSettings(job.sampler(), job.steps(), null, job.seed(), job.batch()).withDefaults(recipe);
        BatchGenerator.Run run;
        Kind kind;
        List<EvalPrompt> prompts;
        long resident;
        try (GenerationPipeline pipeline = GenerationPipeline.load(job.model())) {
            kind = pipeline.info().video() ? Kind.VIDEO : Kind.IMAGE;
            prompts = EvalPrompts.shapes(kind, job.split(), job.count());
            resident = residentWeightBytes(pipeline.model(), job.model());
            run = BatchGenerator.generate(pipeline, prompts, settings, job.name(), (what, done, total, seconds) -> {
                System.out.println(PROGRESS + done + " " + total + " " + seconds);
                System.out.flush();
            });
        }
        long peakRss = ProcessFacts.peakRssBytes(); // before scoring and writing files, which are not the model's
        long scoring = System.nanoTime();
        ShapesScores scores = ShapesScores.of(run.samples());
        List<Sample> reference = job.reference() == null ? null : Outputs.read(job.reference(), prompts);
        FidelityScores fidelity = reference == null ? null : FidelityScores.of(reference, run.samples());
        // the float samples' own caption check, so that forked samples can be named (Forks)
        ShapesScores referenceScores = reference == null ? null : ShapesScores.of(reference);
        double scoringSeconds = (System.nanoTime() - scoring) / 1e9;
        EvalReport report = new EvalReport(job.model(), job.referenceModel(), kind, "shapes " + job.split().id() + " split", true, recipe,
                run, null, scores, referenceScores, fidelity, scoringSeconds, (System.nanoTime() - start) / 1e9, job.out());
        EvalFiles.save(report, job.out(), job.sheet());
        Outputs.write(run.samples(), job.out().resolve(Outputs.FILE));
        ObjectNode o = report.toJson();
        o.put("resident_weight_bytes", resident);
        o.put("peak_rss_bytes", peakRss);
        o.put("load_average_start", loadBefore);
        o.put("load_average_end", ProcessFacts.loadAverage());
        return o;
    }

    /**
     * Bytes of the denoiser's weights held while it runs: every checkpoint tensor that belongs to no Linear (embeddings,
     * norms, the patch convolution, buffers) as stored, the float Linears' weights and biases, and what the quantized
     * executors hold (packed integer weights, scales, zero points, balancing; {@link QuantizedModel#residentBytes}).
     * The same definition for float and quantized settings, so the figures compare.
     */
    static long residentWeightBytes(Denoiser model, Path folder) {
        Map<String, Linear> linears = model.linears();
        long bytes = QuantizedModel.residentBytes(model);
        for (Linear l : linears.values()) {
            if (l.storage().hasFloatWeight()) bytes += l.weight().byteSize();
            if (l.bias() != null) bytes += l.bias().byteSize();
        }
        Set<String> linearNames = linears.keySet();
        try (TensorFile f = Checkpoints.open(Checkpoints.findIn(ModelFolder.resolve(folder).denoiser()))) {
            for (String name : f.names()) {
                if (!ownedByLinear(name, linearNames)) bytes += f.get(name).byteSize();
            }
        }
        return bytes;
    }

    /** "blocks.0.attn.qkv.w8.scale" belongs to the Linear "blocks.0.attn.qkv". */
    private static boolean ownedByLinear(String tensor, Set<String> linears) {
        for (int dot = tensor.lastIndexOf('.'); dot > 0; dot = tensor.lastIndexOf('.', dot - 1)) {
            if (linears.contains(tensor.substring(0, dot))) return true;
        }
        return false;
    }

}
