package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.eval.metrics.AlignmentScore;
import dev.viditq.eval.metrics.AlignmentSummary;
import dev.viditq.eval.metrics.Attribute;
import dev.viditq.eval.metrics.CaptionAlignment;
import dev.viditq.eval.shapes.*;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

@Command(name = "shapes", mixinStandardHelpOptions = true, description = {
        "The Shapes benchmark: captioned synthetic scenes (32x32 images, 16-frame videos), their analyzer and metrics.",
        "Example: ./viditq shapes export --kind image --split train --count 100000 --seed 1 --out shapes-train.safetensors.gz"},
        subcommands = {ShapesCommand.Export.class, ShapesCommand.Sample.class, ShapesCommand.Check.class,
                ShapesCommand.Prompts.class})
final class ShapesCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    static Kind kind(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "image" -> Kind.IMAGE;
            case "video" -> Kind.VIDEO;
            default -> throw new IllegalArgumentException("--kind must be image or video, not '" + name + "'");
        };
    }

    static Split split(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "train" -> Split.TRAIN;
            case "calib" -> Split.CALIB;
            case "eval" -> Split.EVAL;
            default -> throw new IllegalArgumentException("--split must be train, calib or eval, not '" + name + "'");
        };
    }

    /** The prompt count to use: the standard size of a fixed split unless given; required for train. */
    static int count(Integer count, Kind kind, Split split) {
        if (count != null) {
            if (count <= 0) throw new IllegalArgumentException("--count must be positive, got " + count);
            return count;
        }
        if (split == Split.TRAIN) throw new IllegalArgumentException("--count is required for the train split");
        return ShapesGenerator.standardCount(kind, split);
    }

    /** The train seed; fixed splits have constant seeds, so passing one is a mistake worth reporting. */
    static long seed(Long seed, Split split) {
        if (split != Split.TRAIN && seed != null) {
            throw new IllegalArgumentException("--seed applies to the train split only; calib and eval are fixed sets");
        }
        return seed == null ? 0 : seed;
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = {
            "Write a split as safetensors for the PyTorch trainer: pixels U8 [N,32,32,3] (video [N,16,32,32,3]),",
            "captions, scene parameters. A name ending in .gz is gzip-compressed (about 110 bytes per image and",
            "500 per video instead of 3 KB and 48 KB). Format: eval/src/main/java/dev/viditq/eval/shapes/package-info.java.",
            "Example: ./viditq shapes export --kind video --split train --count 20000 --seed 1 --out videos.safetensors.gz"})
    static final class Export implements Callable<Integer> {
        @Option(names = "--kind", required = true, paramLabel = "image|video") String kind;
        @Option(names = "--split", required = true, paramLabel = "train|calib|eval") String split;
        @Option(names = "--count", paramLabel = "N", description = "Prompts to write (default for calib/eval: the standard size).") Integer count;
        @Option(names = "--seed", paramLabel = "S", description = "Train stream seed (default 0).") Long seed;
        @Option(names = "--out", required = true, paramLabel = "FILE") Path out;
        @Option(names = "--json", description = "Print one JSON object on stdout.") boolean json;

        @Override
        public Integer call() {
            Kind k = kind(kind);
            Split s = split(split);
            SafeOutput.checkFile(out, OutputPolicy.force);
            ShapesExport.Summary r = ShapesExport.export(k, s, count(count, k, s), seed(seed, s), out);
            if (json) {
                ObjectNode o = Json.object();
                o.put("file", r.file().toString());
                o.put("kind", k.id());
                o.put("split", s.id());
                o.put("count", r.count());
                o.put("raw_bytes", r.rawBytes());
                o.put("file_bytes", r.fileBytes());
                o.put("seconds", r.seconds());
                Json.print(o);
            } else {
                System.out.printf("wrote %s: %d %s prompts (%s), %.1f MB of tensors, file %.1f MB, %.1f s%n", r.file(),
                        r.count(), k.id(), s.id(), r.rawBytes() / 1e6, r.fileBytes() / 1e6, r.seconds());
            }
            return 0;
        }
    }

    @Command(name = "sample", mixinStandardHelpOptions = true, description = {
            "Write a few renders to look at: PNGs (images), looping GIFs and filmstrip PNGs (videos), upscaled,",
            "and captions.txt.",
            "Example: ./viditq shapes sample --out /tmp/shapes --count 12"})
    static final class Sample implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
        @Option(names = "--count", defaultValue = "8", paramLabel = "N", description = "Per kind (default 8).") int count;
        @Option(names = "--split", defaultValue = "train", paramLabel = "train|calib|eval") String split;
        @Option(names = "--seed", paramLabel = "S", description = "Train stream seed (default 0).") Long seed;
        @Option(names = "--scale", defaultValue = "8", paramLabel = "K", description = "Upscaling factor (default 8).") int scale;

        @Override
        public Integer call() throws IOException {
            SafeOutput.checkFolder(out, OutputPolicy.force, false);
            Split s = split(split);
            List<String> lines = new ArrayList<>();
            for (Kind k : Kind.values()) {
                List<ShapesPrompt> prompts = ShapesGenerator.prompts(k, s, count(count, k, s), seed(seed, s));
                for (ShapesPrompt p : prompts) {
                    String name = String.format("%s_%s_%03d.%s", s.id(), k.id(), p.index(), k == Kind.IMAGE ? "png" : "gif");
                    if (k == Kind.IMAGE) ImageFiles.writePng(Renderer.render(p.scene()), out.resolve(name), scale);
                    else {
                        RgbVideo video = Renderer.renderVideo(p.scene());
                        ImageFiles.writeGif(video, out.resolve(name), scale, 120);
                        ImageFiles.writePng(ImageFiles.filmstrip(video), out.resolve(name.replace(".gif", "_frames.png")), Math.max(1, scale / 2));
                    }
                    lines.add(name + "\t" + p.caption());
                }
            }
            SafeOutput.write(out.resolve("captions.txt"), tmp -> Files.write(tmp, lines));
            System.out.println("wrote " + lines.size() + " samples and captions.txt to " + out);
            return 0;
        }
    }

    @Command(name = "prompts", mixinStandardHelpOptions = true, description = {
            "List the prompts of a split: index and caption (with --json also the ground-truth scene).",
            "Example: ./viditq shapes prompts --kind video --split eval"})
    static final class Prompts implements Callable<Integer> {
        @Option(names = "--kind", required = true, paramLabel = "image|video") String kind;
        @Option(names = "--split", defaultValue = "eval", paramLabel = "train|calib|eval") String split;
        @Option(names = "--count", paramLabel = "N") Integer count;
        @Option(names = "--seed", paramLabel = "S") Long seed;
        @Option(names = "--json", description = "Print one JSON object on stdout.") boolean json;

        @Override
        public Integer call() {
            Kind k = kind(kind);
            Split s = split(split);
            List<ShapesPrompt> prompts = ShapesGenerator.prompts(k, s, count(count, k, s), seed(seed, s));
            if (!json) {
                prompts.forEach(p -> System.out.println(p.index() + "\t" + p.caption()));
                return 0;
            }
            ObjectNode root = Json.object();
            root.put("kind", k.id());
            root.put("split", s.id());
            ArrayNode items = root.putArray("prompts");
            for (ShapesPrompt p : prompts) {
                ObjectNode item = items.addObject();
                item.put("index", p.index());
                item.put("caption", p.caption());
                item.put("background", p.scene().background().name().toLowerCase(Locale.ROOT));
                ArrayNode objects = item.putArray("objects");
                for (SceneObject o : p.scene().objects()) {
                    ObjectNode on = objects.addObject();
                    on.put("shape", o.shape().word());
                    on.put("color", o.color().word());
                    on.put("size", o.size().words()[0]);
                    on.put("position", o.position().name().toLowerCase(Locale.ROOT));
                    on.put("x", o.x());
                    on.put("y", o.y());
                    if (o.moving()) {
                        on.put("direction", o.direction().word());
                        on.put("speed", o.speed().words()[0]);
                    }
                }
            }
            Json.print(root);
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = {
            "Run the analyzer on ground-truth renders of training scenes and print its per-attribute accuracy;",
            "exit 1 when an attribute falls below --min-accuracy. --noise/--blur damage the renders first.",
            "Example: ./viditq shapes check --count 500 --noise 0.04 --blur 0.6"})
    static final class Check implements Callable<Integer> {
        @Option(names = "--count", defaultValue = "300", paramLabel = "N", description = "Scenes per kind (default 300).") int count;
        @Option(names = "--seed", defaultValue = "12345", paramLabel = "S") long seed;
        @Option(names = "--noise", defaultValue = "0", paramLabel = "SIGMA", description = "Gaussian noise, RGB in [0,1].") double noise;
        @Option(names = "--blur", defaultValue = "0", paramLabel = "SIGMA", description = "Gaussian blur, pixels.") double blur;
        @Option(names = "--min-accuracy", defaultValue = "0.98", paramLabel = "A") double minAccuracy;
        @Option(names = "--json", description = "Print one JSON object on stdout.") boolean json;

        @Override
        public Integer call() {
            if (count <= 0) throw new IllegalArgumentException("--count must be positive, got " + count);
            ObjectNode root = Json.object();
            List<String> failures = new ArrayList<>();
            for (Kind k : Kind.values()) {
                long start = System.nanoTime();
                AlignmentSummary summary = measure(k);
                double seconds = (System.nanoTime() - start) / 1e9;
                ObjectNode node = root.putObject(k.id());
                node.put("count", summary.count());
                node.put("mean_alignment", summary.mean());
                node.put("seconds", seconds);
                ObjectNode attrs = node.putObject("accuracy");
                for (Map.Entry<Attribute, Double> e : summary.perAttribute().entrySet()) {
                    attrs.put(e.getKey().id(), e.getValue());
                    if (e.getValue() < minAccuracy) failures.add(k.id() + " " + e.getKey().id() + " " + e.getValue());
                }
                if (!json) {
                    System.out.printf("%s: %d scenes, noise %.3f, blur %.2f px, %.1f s, mean alignment %.4f%n", k.id(),
                            summary.count(), noise, blur, seconds, summary.mean());
                    summary.perAttribute().forEach((a, acc) -> System.out.printf("  %-10s %.4f%n", a.id(), acc));
                }
            }
            if (json) Json.print(root);
            if (!failures.isEmpty()) {
                System.err.println("below --min-accuracy " + minAccuracy + ": " + String.join(", ", failures));
                return 1;
            }
            return 0;
        }

        private AlignmentSummary measure(Kind kind) {
            AlignmentSummary summary = new AlignmentSummary();
            Parallel.forEach(count, i -> {
                Random random = new Random(seed * 31 + i);
                Scene scene = ShapesGenerator.train(kind, seed, i).scene();
                AlignmentScore score = kind == Kind.IMAGE
                        ? CaptionAlignment.score(scene, ShapesAnalyzer.analyzeImage(Degrade.image(Renderer.render(scene), noise, blur, random)))
                        : CaptionAlignment.score(scene, ShapesAnalyzer.analyzeVideo(Degrade.video(Renderer.renderVideo(scene), noise, blur, random)));
                summary.add(score);
            });
            return summary;
        }
    }
}
