package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.run.Recipe;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.ShapesGenerator;
import dev.viditq.eval.shapes.ShapesPrompt;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.CaptionFile;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.sampling.Step;
import dev.viditq.nn.text.PromptFile;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.CalibrationDriver;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.quant.calib.PipelineDriver;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "calibrate", mixinStandardHelpOptions = true, description = {
        "Record activation statistics for post-training quantization: runs the float model over calibration prompts "
                + "through every sampling step, with an observer on every Linear recording per-input-channel abs-max and "
                + "per-tensor min/max per step and per CFG half. Saves a safetensors file after every prompt; a run "
                + "restarted with the same arguments resumes after the last finished prompt.",
        "Inputs: a model folder with text encoder and VAE takes text prompts (--prompts, default: the Shapes "
                + "calibration split); a class-conditional model takes class labels (--class-labels, default 0, 1, 2, ...); "
                + "a bare text denoiser takes caption embeddings (--caption-embeddings, one prompt per row).",
        "Examples:",
        "  ./viditq calibrate --model assets/models/shapes-t2i --count 16 --out shapes-t2i.calib.safetensors",
        "  ./viditq calibrate --model assets/models/shapes-t2i --count 16 --hessians --out shapes-t2i.gptq.calib.safetensors",
        "  ./viditq calibrate --model models/dit --class-labels 0,1,2,3 --steps 20 --out dit.calib.safetensors"})
final class CalibrateCommand implements Callable<Integer> {
    private static final int DENOISER_DEFAULT_STEPS = 20;

    @Option(names = "--model", required = true, description = "Model folder (float).")
    Path model;

    @Option(names = "--prompts", description = "Text file, one prompt per line (# comments and blank lines skipped).")
    Path promptsFile;

    @Option(names = "--count", description = "Number of prompts (default: all of --prompts, or the Shapes calibration "
            + "split's standard size: 64 image / 16 video prompts).")
    Integer count;

    @Option(names = "--class-labels", split = ",", description = "Class labels of a class-conditional model.")
    int[] classLabels;

    @Option(names = "--caption-embeddings", description = "Safetensors with 'caption' [B,L,D] (+ 'mask', 'negative_caption', "
            + "'negative_mask'): one calibration prompt per row, for models without a text encoder.")
    Path captionFile;

    @Option(names = "--steps", description = "Sampling steps (default: the model folder's recipe, else the family's for full folders, "
            + DENOISER_DEFAULT_STEPS + " for bare denoisers).")
    Integer steps;

    @Option(names = "--cfg", description = "Guidance scale (default: the model folder's recipe, else the family's).")
    Double cfg;

    @Option(names = "--sampler", description = "Sampler (default: the model folder's recipe, else the family's; ddim or rflow for bare denoisers).")
    String sampler;

    @Option(names = "--size", description = "HxW in pixels for full folders, latent cells (H = W) for bare denoisers.")
    String size;

    @Option(names = "--frames", description = "Frames of a video model (default: the model's).")
    Integer frames;

    @Option(names = "--seed", defaultValue = "0", description = "Seed; prompt i uses seed + i (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--separate-cfg", description = "Run the two CFG halves as separate forward passes.")
    boolean separateCfg;

    @Option(names = "--hessians", description = "Also record every Linear's input Hessian H = Σ xᵀx over all steps and CFG halves "
            + "(what GPTQ needs; in·(in+1)/2 F32 values per layer). Off by default: files made without it are unchanged.")
    boolean hessians;

    @Option(names = "--out", required = true, description = "Calibration file to write (.safetensors); resumed when it exists.")
    Path out;

    @Option(names = "--json", description = "Print a JSON summary on stdout.")
    boolean json;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Record the prompts as tasks on Apache Spark (local[N], "
            + "spark://host:port, ...) and fold them in prompt order: the file is byte-identical to the single-process run's.")
    String spark;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (sampler != null && !Samplers.NAMES.contains(sampler)) {
            throw new IllegalArgumentException("unknown sampler '" + sampler + "' (known: " + String.join(", ", Samplers.NAMES) + ")");
        }
        SafeOutput.checkFile(out, OutputPolicy.force);
        long start = System.nanoTime();
        try (Denoiser probe = ModelLoader.load(ModelFolder.resolve(model).denoiser())) {
            if (probe.linears().values().stream().anyMatch(l -> l.storage().isQuantized())) {
                throw new IllegalArgumentException(model + ": this model is already quantized; calibrate the float model");
            }
        }
        Calibration cal;
        try (OpenDriver driver = openDriver()) {
            cal = spark == null ? run(driver.driver()) : DistributedCalibration.run(driver.driver(), this, Distributed.commandLine(spec));
        }
        report(cal, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** A calibration driver and what it loaded (closed with it). */
    record OpenDriver(CalibrationDriver driver, AutoCloseable loaded) implements AutoCloseable {
        @Override
        public void close() {
            try {
                loaded.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The driver these options describe, its model loaded (on the driver, and again on every worker). */
    OpenDriver openDriver() throws IOException {
        GuidedModel.Batching batching = separateCfg ? GuidedModel.Batching.SEPARATE : GuidedModel.Batching.BATCHED;
        ModelFolder folder = ModelFolder.resolve(model);
        if (useTextPipeline(folder)) {
            GenerationPipeline pipeline = GenerationPipeline.load(model);
            try {
                Integer[] hw = GenerateCommand.parseSize(size);
                // Calibrate on the trajectories the model will be run on: eval and generate follow the folder's
                // recipe (config.json "pipeline" block), so the statistics must come from the same sampler and steps.
                Recipe recipe = Recipe.of(model);
                return new OpenDriver(new PipelineDriver(pipeline, textPrompts(pipeline.info()), orElse(steps, recipe.steps()),
                        orElse(cfg, recipe.cfgScale()), orElse(sampler, recipe.sampler()), hw[0], hw[1], frames, seed, batching), pipeline);
            } catch (IOException | RuntimeException e) {
                pipeline.close();
                throw e;
            }
        }
        Denoiser denoiser = ModelLoader.load(folder.denoiser());
        try {
            return new OpenDriver(denoiserDriver(denoiser, batching), denoiser);
        } catch (IOException | RuntimeException e) {
            denoiser.close();
            throw e;
        }
    }

    /** Text prompts go through the full pipeline; labels and given embeddings through the bare denoiser. */
    private boolean useTextPipeline(ModelFolder folder) {
        if (classLabels != null || captionFile != null) return false;
        return folder.textEncoder() != null;
    }

    private List<String> textPrompts(ModelInfo info) throws IOException {
        if (promptsFile != null) {
            List<String> all = PromptFile.read(promptsFile);
            return count == null ? all : all.subList(0, Math.min(count, all.size()));
        }
        Kind kind = info.video() ? Kind.VIDEO : Kind.IMAGE;
        int n = count != null ? count : ShapesGenerator.standardCount(kind, Split.CALIB);
        return ShapesGenerator.fixed(kind, Split.CALIB, n).stream().map(ShapesPrompt::caption).toList();
    }

    private CalibrationDriver denoiserDriver(Denoiser denoiser, GuidedModel.Batching batching) throws IOException {
        ModelInfo info = denoiser.info();
        List<DenoiserDriver.Input> inputs = new ArrayList<>();
        if (info.numClasses() > 0) {
            if (captionFile != null || promptsFile != null) throw new IllegalArgumentException("this " + info.family() + " model is class-conditional: give --class-labels");
            if (classLabels != null) {
                for (int l : classLabels) inputs.add(new DenoiserDriver.ClassLabel(l));
            } else {
                int n = count != null ? count : Math.min(info.numClasses(), 16);
                for (int i = 0; i < n; i++) inputs.add(new DenoiserDriver.ClassLabel(i % info.numClasses()));
            }
        } else {
            if (captionFile == null) {
                throw new IllegalArgumentException(model + ": a text model without text_encoder/ takes --caption-embeddings "
                        + "(or give a complete model folder to calibrate on text prompts)");
            }
            CaptionFile file = CaptionFile.read(captionFile);
            int rows = file.captions().batch();
            for (int r = 0; r < (count == null ? rows : Math.min(count, rows)); r++) {
                CaptionFile row = file.row(r);
                inputs.add(new DenoiserDriver.Caption(row.captions(), row.negative(), captionFile.getFileName() + " row " + r));
            }
        }
        Integer latent = size == null ? null : GenerateCommand.parseSize(size)[0];
        String s = sampler != null ? sampler : info.family().bareDenoiserSampler();
        return new DenoiserDriver(denoiser, inputs, s, steps != null ? steps : DENOISER_DEFAULT_STEPS,
                cfg != null ? cfg : info.family().sampling().cfgScale(), seed, latent, frames, batching);
    }

    private Calibration run(CalibrationDriver driver) {
        Calibration.Settings s = driver.settings();
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("calibrate").setInitialMax((long) driver.prompts().size() * s.steps())
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" steps", 1).showSpeed().build()) {
            return Calibrator.run(driver, out, new Calibrator.Progress() {
                @Override
                public void start(int prompts, int alreadyDone, int steps) {
                    bar.stepTo((long) alreadyDone * steps);
                    if (alreadyDone > 0) bar.setExtraMessage("resumed after " + alreadyDone + " prompts");
                }

                @Override
                public void step(int prompt, Step step) {
                    bar.step();
                }
            }, hessians);
        }
    }

    private void report(Calibration cal, double seconds) {
        if (json) {
            ObjectNode o = Json.object();
            o.put("out", out.toString());
            o.put("prompts", cal.done());
            o.put("layers", cal.layers().size());
            o.put("steps", cal.steps());
            o.put("hessians", cal.hasHessians());
            o.put("sampler", cal.settings().sampler());
            o.put("cfg_scale", cal.settings().cfgScale());
            o.put("seconds", seconds);
            Json.print(o);
        } else {
            System.err.printf("wrote %s: %d prompts × %d steps, %d linears (%.1f s)%n", out, cal.done(), cal.steps(),
                    cal.layers().size(), seconds);
        }
    }

    private static <T> T orElse(T given, T fallback) {
        return given != null ? given : fallback;
    }
}
