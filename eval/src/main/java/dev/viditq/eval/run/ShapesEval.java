package dev.viditq.eval.run;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Scene;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GenerationRequest;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * The evaluation protocol of {@code ./viditq eval}: generate the prompts of a fixed Shapes split (or of a caption
 * file) with a model, score them with the analyzer against their ground-truth scenes, and, given a reference
 * model, generate the same prompts with the same seeds, batches and sampler settings through it and measure the
 * fidelity of the model's samples to the reference's. Models are loaded only through
 * {@link GenerationPipeline#load}, so any folder the pipeline loads (float or quantized) is evaluated alike.
 */
public final class ShapesEval {
    /**
     * @param reference   a model folder to compare against, or null
     * @param split       calib or eval (ignored with a prompts file)
     * @param promptsFile captions without ground truth, or null for the split
     * @param count       prompts to use; null: the split's standard size, or the whole file
     * @param saveDir     where to write the samples, contact sheets and report.json, or null
     * @param sheetCount  how many samples the contact sheets show
     * @param referencePrecision the float precision the reference runs in, or null for the model's: e.g. the same
     *                    folder as model and reference, the reference in FP32, measures what BF16 arithmetic changes
     */
    public record Request(Path model, Path reference, Split split, Path promptsFile, Integer count, EvalSettings settings,
                          Path saveDir, int sheetCount, Precision referencePrecision) {
        public Request {
            if (split == Split.TRAIN) throw new IllegalArgumentException("evaluate on a fixed split (calib or eval), not train");
            if (sheetCount < 0) throw new IllegalArgumentException("the contact sheet count must be >= 0, got " + sheetCount);
        }
    }

    /**
     * Generates a model's samples for the evaluation: in this process ({@link #LOCAL}) or elsewhere (a cluster's tasks,
     * which must return exactly the samples {@link BatchGenerator#generate} makes).
     */
    @FunctionalInterface
    public interface Generator {
        /**
         * @param folder    the model folder {@code pipeline} was loaded from
         * @param precision the float precision to run in, or null for the process's
         */
        BatchGenerator.Run generate(String what, Path folder, GenerationPipeline pipeline, List<EvalPrompt> prompts,
                                    EvalSettings settings, Precision precision, BatchGenerator.Progress progress);
    }

    public static final Generator LOCAL = (what, folder, pipeline, prompts, settings, precision, progress) -> {
        Supplier<BatchGenerator.Run> generate = () -> BatchGenerator.generate(pipeline, prompts, settings, what, progress);
        return precision == null ? generate.get() : KernelBackend.withPrecision(precision, generate);
    };

    private ShapesEval() {}

    public static EvalReport run(Request req, BatchGenerator.Progress progress) {
        return run(req, progress, LOCAL);
    }

    public static EvalReport run(Request req, BatchGenerator.Progress progress, Generator generator) {
        long start = System.nanoTime();
        Recipe recipe = Recipe.of(req.model());
        EvalSettings settings = req.settings().withDefaults(recipe);
        List<EvalPrompt> prompts;
        Kind kind;
        BatchGenerator.Run run, reference = null;
        // both folders open at once (weights are memory-mapped): a reference that cannot be compared fails before any work
        try (GenerationPipeline pipeline = GenerationPipeline.load(req.model());
             GenerationPipeline referencePipeline = req.reference() == null ? null : GenerationPipeline.load(req.reference())) {
            kind = pipeline.info().video() ? Kind.VIDEO : Kind.IMAGE;
            prompts = req.promptsFile() != null ? EvalPrompts.file(req.promptsFile(), req.count(), kind)
                    : EvalPrompts.shapes(kind, req.split(), req.count());
            GenerationPipeline.Settings used = pipeline.resolve(firstRequest(prompts, settings));
            if (prompts.getFirst().hasTruth()) checkShapesSize(used, kind, req.model());
            // the reference runs exactly the model's resolved sampler, steps and cfg, so only the weights differ
            EvalSettings same = new EvalSettings(used.sampler(), used.steps(), used.cfgScale(), settings.seed(), settings.batch(),
                    used.height(), used.width(), used.frames());
            if (referencePipeline != null) checkComparable(referencePipeline, req.reference(), prompts, same, kind, used);
            run = generator.generate("model", req.model(), pipeline, prompts, settings, null, progress);
            if (referencePipeline != null) {
                reference = generator.generate("reference", req.reference(), referencePipeline, prompts, same, req.referencePrecision(), progress);
            }
        }
        long scoring = System.nanoTime();
        boolean truth = prompts.getFirst().hasTruth();
        ShapesScores scores = truth ? ShapesScores.of(run.samples()) : null;
        ShapesScores referenceScores = truth && reference != null ? ShapesScores.of(reference.samples()) : null;
        FidelityScores fidelity = reference == null ? null : FidelityScores.of(reference.samples(), run.samples());
        double scoringSeconds = (System.nanoTime() - scoring) / 1e9;
        String source = req.promptsFile() != null ? "file " + req.promptsFile() : "shapes " + req.split().id() + " split";
        EvalReport report = new EvalReport(req.model(), req.reference(), kind, source, truth, recipe, run, reference,
                scores, referenceScores, fidelity, scoringSeconds, (System.nanoTime() - start) / 1e9, req.saveDir());
        if (req.saveDir() != null) EvalFiles.save(report, req.saveDir(), req.sheetCount());
        return report;
    }

    private static void checkComparable(GenerationPipeline reference, Path dir, List<EvalPrompt> prompts, EvalSettings same,
                                        Kind kind, GenerationPipeline.Settings used) {
        Kind refKind = reference.info().video() ? Kind.VIDEO : Kind.IMAGE;
        GenerationPipeline.Settings refUsed = reference.resolve(firstRequest(prompts, same));
        if (refKind != kind || refUsed.height() != used.height() || refUsed.width() != used.width() || refUsed.frames() != used.frames()) {
            throw new IllegalArgumentException("the reference " + dir + " generates " + describe(refKind, refUsed)
                    + ", the model " + describe(kind, used) + "; fidelity needs outputs of the same shape");
        }
    }

    private static GenerationRequest firstRequest(List<EvalPrompt> prompts, EvalSettings s) {
        return GenerationRequest.builder().prompt(prompts.getFirst().caption()).sampler(s.sampler())
                .steps(s.steps()).cfgScale(s.cfgScale()).seed(s.seed()).size(s.height(), s.width()).frames(s.frames()).build();
    }

    /** Shapes ground truth is 32×32 (videos 16 frames); scoring another size would measure nothing. */
    private static void checkShapesSize(GenerationPipeline.Settings s, Kind kind, Path model) {
        if (s.height() != Scene.HEIGHT || s.width() != Scene.WIDTH || s.frames() != kind.frames()) {
            throw new IllegalArgumentException(model + " generates " + describe(kind, s) + " but the Shapes benchmark is "
                    + Scene.WIDTH + "x" + Scene.HEIGHT + (kind == Kind.VIDEO ? " with " + kind.frames() + " frames" : "")
                    + "; evaluate free-text prompts (--prompts FILE) against a reference instead");
        }
    }

    private static String describe(Kind kind, GenerationPipeline.Settings s) {
        return s.width() + "x" + s.height() + (kind == Kind.VIDEO ? "x" + s.frames() + "-frame videos" : " images");
    }
}
