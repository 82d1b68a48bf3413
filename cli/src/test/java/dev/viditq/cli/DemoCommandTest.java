package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code ./viditq demo} with the bundled models at 2 steps: it writes a sheet and a GIF and scores them. */
class DemoCommandTest {

    @Test
    void writesContactSheetAndGifWithScores(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("demo");
        CliRun r = run("demo", "--image-model", EvalCommandTest.T2I.toString(),
                "--video-model", EvalCommandTest.T2V.toString(), "--out", out.toString(), "--images", "2", "--videos", "1",
                "--steps", "2", "--json");
        JsonNode j = r.json();
        assertEquals(2, j.get("outputs").size());
        for (JsonNode o : j.get("outputs")) {
            assertTrue(Files.isRegularFile(Path.of(o.get("file").asText())), o.toString());
            double a = o.get("alignment").asDouble();
            assertTrue(a >= 0 && a <= 1, o.toString());
        }
        assertTrue(ImageIO.read(out.resolve("images.png").toFile()).getWidth() >= 2 * 128);
        assertTrue(Files.isRegularFile(out.resolve("video-frames.png")));
        try (ImageInputStream in = ImageIO.createImageInputStream(out.resolve("videos.gif").toFile())) {
            ImageReader gif = ImageIO.getImageReadersByFormatName("gif").next();
            gif.setInput(in);
            assertEquals(16, gif.getNumImages(true), "one GIF frame per video frame");
        }

        CliRun text = run("demo", "--image-model", EvalCommandTest.T2I.toString(), "--out",
                tmp.resolve("text").toString(), "--images", "1", "--videos", "0", "--steps", "2");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("wrote") && text.out().contains("caption alignment"), text.out());
    }

    @Test
    void defaultModelsAreTheBundledOnesUnderTheLauncherHome() {
        String before = System.getProperty("viditq.home");
        try {
            System.setProperty("viditq.home", "/opt/viditq");
            assertEquals(Path.of("/opt/viditq/assets/models/shapes-t2v"), DemoCommand.bundled(null, "shapes-t2v"));
            assertEquals(Path.of("mine"), DemoCommand.bundled(Path.of("mine"), "shapes-t2v"));
        } finally {
            if (before == null) System.clearProperty("viditq.home");
            else System.setProperty("viditq.home", before);
        }
    }
}
