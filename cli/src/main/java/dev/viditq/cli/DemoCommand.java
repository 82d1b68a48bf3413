package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.run.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "demo", description = {
        "Generate a few images and a video with the bundled Shapes models (assets/models/shapes-t2i, shapes-t2v) from "
                + "held-out prompts, write a captioned contact sheet (PNG) and an animated grid (GIF), and score every "
                + "output against its prompt with the Shapes analyzer.",
        "Example: ./viditq demo --out out/demo"})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "out/demo", description = "Output folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--image-model", description = "Text-to-image model folder (default: the bundled assets/models/shapes-t2i).")
    Path imageModel;

    @Option(names = "--video-model", description = "Text-to-video model folder (default: the bundled assets/models/shapes-t2v).")
    Path videoModel;

    @Option(names = "--images", defaultValue = "4", description = "Images to generate (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--videos", defaultValue = "1", description = "Videos to generate (default ${DEFAULT-VALUE}).")
    int videos;

    @Option(names = "--steps", description = "Denoising steps (default: each model's recipe, 20).")
    Integer steps;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print {outputs: [{file, what, count, alignment, seconds}], seconds} instead of the log.")
    boolean json;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        SafeOutput.checkFolder(out, OutputPolicy.force, false);
        Demo demo = new Demo(bundled(imageModel, "shapes-t2i"), bundled(videoModel, "shapes-t2v"), out, images, videos, steps, seed);
        List<Demo.Output> outputs = demo.run(line -> {
            if (!json) System.out.println(line);
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        if (json) {
            ObjectNode o = Json.object();
            ArrayNode files = o.putArray("outputs");
            for (Demo.Output d : outputs) {
                files.addObject().put("file", d.file().toString()).put("what", d.what()).put("count", d.count())
                        .put("alignment", d.alignment()).put("seconds", d.seconds());
            }
            o.put("seconds", seconds);
            Json.print(o);
        } else {
            System.out.printf(Locale.ROOT, "demo done in %.1f s; open %s%n", seconds, out);
        }
        return 0;
    }

    /**
     * The given folder, else the bundled model: under the install the launcher names (-Dviditq.home), else under
     * the working directory.
     */
    static Path bundled(Path given, String name) {
        if (given != null) return given;
        String home = System.getProperty("viditq.home");
        Path models = home != null ? Path.of(home, "assets", "models") : Path.of("assets", "models");
        return models.resolve(name);
    }
}
