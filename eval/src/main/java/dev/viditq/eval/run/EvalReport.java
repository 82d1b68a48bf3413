package dev.viditq.eval.run;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.eval.metrics.AlignmentSummary;
import dev.viditq.eval.metrics.Attribute;
import dev.viditq.eval.metrics.TemporalConsistency;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.nn.pipeline.GenerationPipeline;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The outcome of one {@link ShapesEval} run.
 *
 * @param reference       the reference folder, or null
 * @param promptSource    "shapes eval split" or "file PATH"
 * @param groundTruth     whether the prompts carry scenes (alignment is scored only then)
 * @param recipe          the model config's sampling recipe (used for unset options)
 * @param referenceRun    null without a reference
 * @param scores          null without ground truth
 * @param referenceScores the reference's own alignment; null without reference or ground truth
 * @param fidelity        null without a reference
 * @param scoringSeconds  analysis and fidelity
 * @param seconds         the whole evaluation, loading included
 * @param saveDir         where samples were written, or null
 */
public record EvalReport(Path model, Path reference, Kind kind, String promptSource, boolean groundTruth, Recipe recipe,
                         BatchGenerator.Run run, BatchGenerator.Run referenceRun, ShapesScores scores,
                         ShapesScores referenceScores, FidelityScores fidelity, double scoringSeconds, double seconds,
                         Path saveDir) {

    public int count() {
        return run.samples().size();
    }

    /** The forked samples ({@link Forks}); null without a reference. */
    public Forks forks() {
        return fidelity == null ? null : Forks.of(fidelity, run.samples(), scores, referenceScores);
    }

    /** What was and was not scored, in words (for outputs that might otherwise be misread). */
    public String note() {
        if (groundTruth) return reference == null ? "alignment against the ground-truth scenes" : "alignment and fidelity to the reference";
        return reference == null ? "free-text prompts have no ground truth and no reference was given: nothing scored, timing only"
                : "free-text prompts have no ground truth: fidelity to the reference only, no alignment";
    }

    /** The one JSON object of {@code ./viditq eval --json}. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("model", model.toString());
        o.put("reference", reference == null ? null : reference.toString());
        o.put("kind", kind.id());
        o.put("prompts", promptSource);
        o.put("ground_truth", groundTruth);
        o.put("note", note());
        o.put("count", count());
        putSettings(o.putObject("settings"), run);
        if (scores != null) putScores(o, scores);
        if (fidelity != null) putFidelity(o, fidelity);
        if (referenceScores != null) putScores(o.putObject("reference_scores"), referenceScores);
        o.put("seconds_per_sample", run.secondsPerSample());
        o.put("seconds_per_step", run.secondsPerStep());
        ObjectNode timing = o.putObject("timing");
        timing.put("generate_s", run.seconds());
        timing.put("first_batch_s", run.firstBatchSeconds());
        if (!Double.isNaN(run.steadySecondsPerSample())) {
            timing.put("steady_seconds_per_sample", run.steadySecondsPerSample());
            timing.put("steady_seconds_per_step", run.steadySecondsPerSample() / run.settings().steps());
        }
        if (referenceRun != null) {
            timing.put("reference_generate_s", referenceRun.seconds());
            timing.put("reference_seconds_per_sample", referenceRun.secondsPerSample());
            timing.put("reference_seconds_per_step", referenceRun.secondsPerStep());
            // the reference runs second, in a JVM the model's run has warmed up: compare steady figures
            if (!Double.isNaN(referenceRun.steadySecondsPerSample())) {
                timing.put("reference_steady_seconds_per_sample", referenceRun.steadySecondsPerSample());
            }
        }
        timing.put("scoring_s", scoringSeconds);
        timing.put("total_s", seconds);
        if (saveDir != null) o.put("saved", saveDir.toString());
        return o;
    }

    private void putSettings(ObjectNode s, BatchGenerator.Run r) {
        GenerationPipeline.Settings used = r.settings();
        s.put("sampler", used.sampler());
        s.put("steps", used.steps());
        s.put("cfg_scale", used.cfgScale());
        s.put("seed", used.seed());
        s.put("batch", r.batch());
        s.put("height", used.height());
        s.put("width", used.width());
        s.put("frames", used.frames());
        s.put("recipe", recipe.source());
    }

    private static void putScores(ObjectNode o, ShapesScores s) {
        o.put("alignment", s.alignment());
        ObjectNode by = o.putObject("alignment_by_attribute");
        for (Map.Entry<Attribute, Double> e : s.summary().perAttribute().entrySet()) by.put(e.getKey().id(), e.getValue());
        ObjectNode objects = o.putObject("alignment_by_objects");
        for (Map.Entry<Integer, AlignmentSummary> e : s.byObjects().entrySet()) {
            objects.putObject(e.getKey().toString()).put("count", e.getValue().count()).put("alignment", e.getValue().mean());
        }
        if (s.temporal() != null) {
            o.put("motion_accuracy", s.motionAccuracy());
            putTemporal(o.putObject("temporal"), s.temporal(), s.untracked());
        }
    }

    private static void putTemporal(ObjectNode t, TemporalConsistency c, int untracked) {
        t.put("trajectory_residual_px", c.trajectoryResidual());
        t.put("color_drift", c.colorDrift());
        t.put("size_variation", c.sizeVariation());
        t.put("background_flicker", c.backgroundFlicker());
        t.put("track_coverage", c.trackCoverage());
        t.put("videos_without_tracks", untracked);
    }

    private void putFidelity(ObjectNode o, FidelityScores f) {
        o.put("psnr", f.psnr());
        o.put("ssim", f.ssim());
        Forks.put(o, f, forks());
        if (kind == Kind.VIDEO) {
            ArrayNode psnr = o.putArray("psnr_per_frame"), ssim = o.putArray("ssim_per_frame");
            for (double v : f.psnrPerFrame()) psnr.add(v);
            for (double v : f.ssimPerFrame()) ssim.add(v);
        }
    }

    /** A few lines for a person: scores, per-attribute accuracy, fidelity, timing. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        GenerationPipeline.Settings s = run.settings();
        b.append(String.format(Locale.ROOT, "%s: %d %s prompts (%s), %s %d steps cfg %s seed %d batch %d%n", model, count(),
                kind.id(), promptSource, s.sampler(), s.steps(), fmt(s.cfgScale()), s.seed(), run.batch()));
        if (scores != null) appendScores(b, "alignment", scores);
        if (referenceScores != null) appendScores(b, "reference alignment", referenceScores);
        if (fidelity != null) {
            b.append(String.format(Locale.ROOT, "fidelity to %s: PSNR %.2f dB (pooled), SSIM %.4f%n", reference, fidelity.psnr(), fidelity.ssim()));
            b.append("  ").append(Forks.describe(fidelity, forks())).append(System.lineSeparator());
        }
        b.append(note()).append(System.lineSeparator());
        b.append(String.format(Locale.ROOT, "time: %.3f s/sample, %.4f s/step per sample (generation %.1f s, first batch %.1f s), total %.1f s%n",
                run.secondsPerSample(), run.secondsPerStep(), run.seconds(), run.firstBatchSeconds(), seconds));
        if (!Double.isNaN(run.steadySecondsPerSample())) {
            b.append(String.format(Locale.ROOT, "  after the first batch (JIT warm-up): %.3f s/sample, %.4f s/step per sample%n",
                    run.steadySecondsPerSample(), run.steadySecondsPerSample() / run.settings().steps()));
        }
        if (saveDir != null) b.append("saved samples, contact sheet and report.json in ").append(saveDir).append(System.lineSeparator());
        return b.toString();
    }

    private static void appendScores(StringBuilder b, String label, ShapesScores s) {
        b.append(String.format(Locale.ROOT, "%s %.4f  (", label, s.alignment()));
        String sep = "";
        for (Map.Entry<Attribute, Double> e : s.summary().perAttribute().entrySet()) {
            b.append(sep).append(e.getKey().id()).append(' ').append(String.format(Locale.ROOT, "%.3f", e.getValue()));
            sep = ", ";
        }
        b.append(')');
        for (Map.Entry<Integer, AlignmentSummary> e : s.byObjects().entrySet()) {
            b.append(String.format(Locale.ROOT, "%n  %d-object prompts: %d, alignment %.4f", e.getKey(), e.getValue().count(), e.getValue().mean()));
        }
        if (s.temporal() != null) {
            TemporalConsistency t = s.temporal();
            b.append(String.format(Locale.ROOT, "%n  motion accuracy %.4f; temporal: trajectory %.3f px, color drift %.4f, size var %.4f, "
                            + "flicker %.4f, coverage %.3f, %d videos without tracks", s.motionAccuracy(), t.trajectoryResidual(),
                    t.colorDrift(), t.sizeVariation(), t.backgroundFlicker(), t.trackCoverage(), s.untracked()));
        }
        b.append(System.lineSeparator());
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.1f", v) : Double.toString(v);
    }
}
