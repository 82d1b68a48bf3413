package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.nn.media.Frames;
import dev.viditq.nn.media.MediaWriter;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.pipeline.CaptionFile;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GenerationRequest;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.PromptFile;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.viditq.core.tensor.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

@Command(name = "generate", description = {
        "Generate images or videos with a diffusion transformer: text → caption embeddings → sampler loop with "
                + "classifier-free guidance → VAE → PNG (images), GIF or MP4 (videos, by the --out extension).",
        "The model folder is a diffusers pipeline folder or a flat folder (docs/MODEL_FORMAT.md). Unset options take "
                + "the family's defaults (DiT: iddpm 250 steps cfg 4; PixArt: DPM-Solver 20 steps cfg 4.5; Open-Sora 1.0: "
                + "iddpm 100 steps cfg 7; Open-Sora 1.2: rflow 30 steps cfg 7, 24 fps; Latte: DDIM 50 steps cfg 7.5; Wan 2.1: "
                + "UniPC 50 steps cfg 5, 480x832, 81 frames at 16 fps); a \"pipeline\" block in the model's config.json may "
                + "state height, width, frames, fps and timestep_shift.",
        "Several prompts (--prompts, or several rows of --caption-embeddings, or several --class-label) each run alone "
                + "with seed + index, written to OUT with -0, -1, ... before the extension.",
        "The noise comes only from --seed (SplitMix64 + Box-Muller), independent of the thread count.",
        "Examples:",
        "  ./viditq generate --model models/pixart-alpha-256 --prompt \"a red fox in snow\" --seed 1 --out fox.png",
        "  ./viditq generate --model models/dit-xl-256 --class-label 207 --steps 50 --out dog.png",
        "  ./viditq generate --model models/latte --prompt \"waves at dusk\" --frames 16 --out waves.mp4",
        "  ./viditq generate --model models/opensora-1.2 --prompt \"a red fox\" --size 240x424 --frames 51 --fps 24 --out fox.mp4",
        "  ./viditq generate --model models/Wan2.1-T2V-1.3B-Diffusers --prompt \"a cat walks on the grass\" --size 480x832 "
                + "--frames 33 --steps 30 --out cat.mp4"})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model folder.")
    Path model;

    static final class Conditioning {
        @Option(names = "--prompt", description = "One text prompt.")
        String prompt;

        @Option(names = "--prompts", description = "A text file, one prompt per line (blank lines and lines starting with # skipped).")
        Path promptsFile;

        @Option(names = "--caption-embeddings", description = "Safetensors with 'caption' [B,L,D], optional 'mask', "
                + "'negative_caption', 'negative_mask' (for models without a text encoder).")
        Path captionFile;

        @Option(names = "--class-label", split = ",", description = "Class label(s) of a class-conditional model (DiT), e.g. 207,360.")
        int[] classLabels;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Conditioning input;

    @Option(names = "--negative-prompt", description = "Text of the unconditional half (default: \"\" or the model's learned null caption).")
    String negativePrompt;

    @Option(names = "--steps", description = "Denoising steps.")
    Integer steps;

    @Option(names = "--cfg", description = "Guidance scale (1 = no guidance).")
    Double cfg;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--size", description = "Output size HxW in pixels, e.g. 256x256 (default: the model's).")
    String size;

    @Option(names = "--frames", description = "Frames of a video model (default: the model's; Wan: 1 + 4k, e.g. 17, 33, 81).")
    Integer frames;

    @Option(names = "--sampler", description = "One of: iddpm, ddim, dpm-solver, dpmpp-2m, rflow, unipc (default: the family's).")
    String sampler;

    @Option(names = "--fps", description = "Frame rate of GIF/MP4 output, and the frame rate an Open-Sora 1.2 model is "
            + "conditioned on (default: the config's pipeline.fps, else the family's official one: Open-Sora 1.2 24, "
            + "Wan 16, else 8).")
    Double fps;

    @Option(names = "--image", description = "First frame of an image-to-video model (PNG/JPEG). Wan 2.1 I2V folders "
            + "are refused: their CLIP image encoder is not implemented yet.")
    Path image;

    @Option(names = "--separate-cfg", description = "Run the conditional and unconditional halves as two forward passes "
            + "instead of one doubled batch.")
    boolean separateCfg;

    @Option(names = "--out", required = true, description = "Output file: .png, .gif or .mp4.")
    Path out;

    @Option(names = "--json", description = "Print {outputs: [{file, seed}], settings (of the first output), seconds} on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        SafeOutput.checkFile(out, OutputPolicy.force); // first: "is a directory" says more than "no extension"
        MediaWriter.Format format = MediaWriter.Format.of(out);
        if (sampler != null && !Samplers.NAMES.contains(sampler)) {
            throw new IllegalArgumentException("unknown sampler '" + sampler + "' (known: " + String.join(", ", Samplers.NAMES) + ")");
        }
        if (fps != null && !(fps > 0 && fps <= 1000)) throw new IllegalArgumentException("--fps must be above 0 and at most 1000, got " + fps);
        Integer[] hw = parseSize(size);
        List<GenerationRequest> requests = requests(hw);
        for (int i = 0; i < requests.size(); i++) SafeOutput.checkFile(outputPath(i, requests.size()), OutputPolicy.force);
        ObjectNode report = Json.object();
        ArrayNode outputs = report.putArray("outputs");
        long start = System.nanoTime();
        if (spark != null) {
            generateOnCluster(requests.size(), report, outputs);
        } else {
            try (GenerationPipeline pipeline = GenerationPipeline.load(model)) {
                for (int i = 0; i < requests.size(); i++) {
                    ObjectNode one = generateOne(pipeline, requests, i, format, true);
                    if (i == 0) report.set("settings", one.get("settings"));
                    outputs.add(one.get("output"));
                }
            }
        }
        report.put("seconds", (System.nanoTime() - start) / 1e9);
        if (json) Json.print(report);
        return 0;
    }

    /** Generates and writes output {@code i}: {"output": {file, seed}, "settings": {...}}. */
    private ObjectNode generateOne(GenerationPipeline pipeline, List<GenerationRequest> requests, int i, MediaWriter.Format format,
                                   boolean showProgress) throws IOException {
        boolean video = pipeline.info().video();
        GenerationPipeline.Run run = pipeline.prepare(requests.get(i));
        GenerationPipeline.Settings settings = run.settings();
        if (video && settings.frames() > 1 && format == MediaWriter.Format.PNG) {
            throw new IllegalArgumentException(out + ": a " + settings.frames() + "-frame video needs a .gif or .mp4 output");
        }
        GenerationPipeline.Generation g = showProgress ? runWithProgress(pipeline, run, i, requests.size()) : pipeline.generate(run, StepListener.NONE);
        Path file = outputPath(i, requests.size());
        List<BufferedImage> frames = video ? Frames.video(g.pixels(), 0) : List.of(Frames.image(g.pixels(), 0));
        MediaWriter.write(file, frames, outputFps(settings, pipeline.info().family()));
        if (showProgress && !json) System.err.println("wrote " + file);
        ObjectNode one = Json.object();
        one.putObject("output").put("file", file.toString()).put("seed", settings.seed());
        putSettings(one.putObject("settings"), settings);
        return one;
    }

    @Option(names = "--spark", paramLabel = "MASTER", description = "Generate the prompts as tasks on Apache Spark (local[N], "
            + "spark://host:port, ...); each worker writes its outputs (OUT must be in a folder every worker sees). Same files "
            + "as without.")
    String spark;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private void generateOnCluster(int count, ObjectNode report, ArrayNode outputs) {
        String[] args = Distributed.commandLine(spec);
        List<OutputTask> tasks = new ArrayList<>();
        for (int i = 0; i < count; i++) tasks.add(new OutputTask(args, i));
        String[] results = new String[count];
        try (Cluster cluster = Cluster.open(spark)) {
            cluster.run("generate", tasks, (i, r) -> {
                results[i] = r;
                if (!json) System.err.println("wrote " + outputPath(i, count));
            });
        }
        for (int i = 0; i < count; i++) {
            try {
                ObjectNode one = (ObjectNode) Json.MAPPER.readTree(results[i]);
                if (i == 0) report.set("settings", one.get("settings"));
                outputs.add(one.get("output"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** Output {@code index} of the command line's prompts, generated and written on a worker (pipeline kept there). */
    record OutputTask(String[] args, int index) implements Cluster.Task<String> {
        @Override
        public String run() throws Exception {
            GenerateCommand c = Distributed.reparse(args, GenerateCommand.class);
            List<GenerationRequest> requests = c.requests(parseSize(c.size));
            MediaWriter.Format format = MediaWriter.Format.of(c.out);
            return WorkerPool.with(Distributed.key("pipeline", new String[]{c.model.toAbsolutePath().toString()}),
                    () -> GenerationPipeline.load(c.model), p -> {
                        try {
                            return c.generateOne(p, requests, index, format, false).toString();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
        }
    }

    private GenerationPipeline.Generation runWithProgress(GenerationPipeline pipeline, GenerationPipeline.Run run, int index,
                                                          int count) {
        GenerationPipeline.Settings settings = run.settings();
        String task = count > 1 ? String.format(Locale.ROOT, "%s %d/%d", settings.sampler(), index + 1, count) : settings.sampler();
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(settings.steps())
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" steps", 1).showSpeed().build()) {
            StepListener progress = (step, latent) -> bar.step();
            return pipeline.generate(run, progress);
        }
    }

    /** --fps, else the frame rate the model was conditioned on, else the family's official output rate. */
    private double outputFps(GenerationPipeline.Settings settings, ModelFamily family) {
        if (fps != null) return fps;
        return settings.fps() > 0 ? settings.fps() : family.outputFps();
    }

    /** One request per prompt / caption row / class label, each with seed + index. */
    private List<GenerationRequest> requests(Integer[] hw) throws IOException {
        Tensor firstFrame = image == null ? null : readImage(image);
        List<Consumer<GenerationRequest.Builder>> conditionings = new ArrayList<>();
        if (input.prompt != null) {
            conditionings.add(b -> b.prompt(input.prompt));
        } else if (input.promptsFile != null) {
            for (String p : PromptFile.read(input.promptsFile)) conditionings.add(b -> b.prompt(p));
        } else if (input.captionFile != null) {
            CaptionFile file = CaptionFile.read(input.captionFile);
            for (int r = 0; r < file.captions().batch(); r++) {
                CaptionFile row = file.row(r);
                conditionings.add(b -> b.captions(row.captions()).negativeCaptions(row.negative()));
            }
        } else {
            for (int label : input.classLabels) conditionings.add(b -> b.classLabels(label));
        }
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < conditionings.size(); i++) {
            GenerationRequest.Builder b = GenerationRequest.builder().negativePrompt(negativePrompt).steps(steps).cfgScale(cfg)
                    .seed(seed + i).size(hw[0], hw[1]).frames(frames).sampler(sampler).image(firstFrame).fps(fps)
                    .batching(separateCfg ? GuidedModel.Batching.SEPARATE : GuidedModel.Batching.BATCHED);
            conditionings.get(i).accept(b);
            out.add(b.build());
        }
        return out;
    }

    /** An image file as pixels [1, 3, H, W] in [-1, 1]. */
    private static Tensor readImage(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--image " + file + ": no such file");
        BufferedImage img = ImageIO.read(file.toFile());
        if (img == null) throw new IllegalArgumentException("--image " + file + ": not an image ImageIO reads (PNG, JPEG, BMP, GIF)");
        return Frames.pixels(img);
    }

    /** "HxW" → {H, W}; null → {null, null} (the model's size). */
    static Integer[] parseSize(String size) {
        if (size == null) return new Integer[]{null, null};
        String[] parts = size.toLowerCase(Locale.ROOT).split("x");
        try {
            if (parts.length == 2) {
                Integer[] hw = {Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip())};
                if (hw[0] > 0 && hw[1] > 0) return hw;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("--size must be HxW in positive pixels, e.g. 256x256; got '" + size + "'");
    }

    private Path outputPath(int index, int count) {
        if (count == 1) return out;
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return out.resolveSibling(name.substring(0, dot) + "-" + index + name.substring(dot));
    }

    private static void putSettings(ObjectNode o, GenerationPipeline.Settings s) {
        o.put("sampler", s.sampler());
        o.put("steps", s.steps());
        o.put("cfg_scale", s.cfgScale());
        o.put("seed", s.seed());
        o.put("height", s.height());
        o.put("width", s.width());
        o.put("frames", s.frames());
        o.put("cfg_cond_first", s.cfg().condFirst());
        if (s.fps() > 0) o.put("fps", s.fps());
        if (s.flowShift() != 1) o.put("timestep_shift", s.flowShift());
    }
}
