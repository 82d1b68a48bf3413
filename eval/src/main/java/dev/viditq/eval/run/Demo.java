package dev.viditq.eval.run;

import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.media.MediaWriter;
import dev.viditq.nn.pipeline.GenerationPipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code ./viditq demo}: a few held-out Shapes prompts through the bundled text-to-image and text-to-video
 * models, written as a captioned contact sheet and a GIF, each output scored by the analyzer so the user sees
 * at once that the models follow their prompts.
 *
 * @param steps null: the model's recipe
 */
public record Demo(Path imageModel, Path videoModel, Path out, int images, int videos, Integer steps, long seed) {
    public Demo {
        if (images < 0 || videos < 0 || images + videos == 0) {
            throw new IllegalArgumentException("the demo needs something to generate: images " + images + ", videos " + videos);
        }
    }

    /** One file written. */
    public record Output(Path file, String what, int count, double alignment, double seconds) {}

    /** Runs the image part, then the video part; {@code log} hears a line as each file is written. */
    public List<Output> run(Consumer<String> log) {
        List<Output> outputs = new ArrayList<>();
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
        }
        if (images > 0) outputs.add(part(imageModel, Kind.IMAGE, images, "images.png", log));
        if (videos > 0) outputs.add(part(videoModel, Kind.VIDEO, videos, "videos.gif", log));
        return outputs;
    }

    private Output part(Path model, Kind kind, int count, String fileName, Consumer<String> log) {
        long start = System.nanoTime();
        BatchGenerator.Run run = generate(model, kind, EvalPrompts.shapes(kind, Split.EVAL, count));
        ShapesScores scores = ShapesScores.of(run.samples());
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < count; i++) captions.add(Sheets.caption(run.samples().get(i), scores.perSample().get(i), Double.NaN));
        Path file = out.resolve(fileName);
        write(file, run.samples(), captions, log);
        double seconds = (System.nanoTime() - start) / 1e9;
        Output o = new Output(file, kind.id() + (count == 1 ? "" : "s"), count, scores.alignment(), seconds);
        log.accept(String.format(Locale.ROOT, "wrote %s: %d %s from %s, %s %d steps, caption alignment %.2f, %.1f s",
                file, count, o.what(), model, run.settings().sampler(), run.settings().steps(), scores.alignment(), seconds));
        for (String caption : captions) log.accept("  " + caption);
        return o;
    }

    /** All prompts in one batch, with the model's recipe (and the demo's step count, if given). */
    private BatchGenerator.Run generate(Path model, Kind kind, List<EvalPrompt> prompts) {
        EvalSettings settings = new EvalSettings(null, steps, null, seed, prompts.size()).withDefaults(Recipe.of(model));
        try (GenerationPipeline pipeline = GenerationPipeline.load(model)) {
            Kind actual = pipeline.info().video() ? Kind.VIDEO : Kind.IMAGE;
            if (actual != kind) {
                throw new IllegalArgumentException(model + " is a text-to-" + actual.id() + " model, the demo needs a text-to-" + kind.id() + " one");
            }
            return BatchGenerator.generate(pipeline, prompts, settings, kind.id(), BatchGenerator.Progress.NONE);
        }
    }

    /** Images: one captioned sheet. Videos: an animated grid, plus a sheet of their first, middle and last frames. */
    private void write(Path file, List<Sample> samples, List<String> captions, Consumer<String> log) {
        if (samples.getFirst().isImage()) {
            MediaWriter.writePng(file, Sheets.sheet(samples, captions));
            return;
        }
        MediaWriter.writeGif(file, Sheets.animatedGrid(samples, captions), EvalFiles.FPS);
        Path frames = out.resolve("video-frames.png");
        MediaWriter.writePng(frames, Sheets.sheet(samples, captions));
        log.accept("wrote " + frames + " (first, middle and last frames)");
    }
}
