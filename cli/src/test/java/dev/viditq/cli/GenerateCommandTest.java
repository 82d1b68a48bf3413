package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.pipeline.CaptionFile;
import dev.viditq.nn.text.Captions;
import dev.viditq.nn.sampling.SeededGaussian;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code ./viditq generate} on tiny model folders assembled from the golden cases' random weights. */
class GenerateCommandTest {

    @BeforeAll
    static void needGolden() {
        for (String c : new String[]{"dit", "vae", "stdit_v1"}) GoldenFolder.GOLDEN.resolve(c);
    }

    /** A flat model folder: the golden denoiser with the golden VAE in vae/. */
    private static Path model(Path dir, String goldenCase) throws Exception {
        for (String[] part : new String[][]{{goldenCase, ""}, {"vae", "vae"}}) {
            Path to = Files.createDirectories(dir.resolve(part[1]));
            for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(GoldenFolder.GOLDEN.resolve(part[0]).resolve(f), to.resolve(f));
        }
        return dir;
    }

    @Test
    void classLabelsToPngsDeterministically(@TempDir Path tmp) throws Exception {
        Path dit = model(tmp.resolve("dit"), "dit");
        Path out = tmp.resolve("out/img.png");
        CliRun r = run("generate", "--model", dit.toString(), "--class-label", "3,5", "--steps", "3", "--seed", "11", "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(2, json.get("outputs").size());
        assertEquals(12, json.get("outputs").get(1).get("seed").asLong(), "seed + index");
        assertEquals("iddpm", json.get("settings").get("sampler").asText());
        Path first = tmp.resolve("out/img-0.png"), second = tmp.resolve("out/img-1.png");
        BufferedImage img = ImageIO.read(first.toFile());
        assertEquals(16, img.getWidth());
        assertEquals(16, img.getHeight());
        byte[] bytes = Files.readAllBytes(first);
        assertFalse(java.util.Arrays.equals(bytes, Files.readAllBytes(second)));
        assertTrue(r.err().contains("3/3"), "progress bar on stderr: " + r.err());

        Path again = tmp.resolve("again.png");
        assertEquals(0, run("generate", "--model", dit.toString(), "--class-label", "3", "--steps", "3", "--seed", "11",
                "--out", again.toString()).code());
        assertSamePixels(first, again);
        try (Stream<Path> s = Files.list(tmp.resolve("out"))) {
            assertEquals(List.of("img-0.png", "img-1.png"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
        }
    }

    /**
     * Same seed, same image: every 8-bit value within one level. Not byte for byte yet because the Java float
     * kernels round differently before and after JIT compilation (~1e-6 relative), which can flip a rounding.
     */
    private static void assertSamePixels(Path a, Path b) throws Exception {
        BufferedImage x = ImageIO.read(a.toFile()), y = ImageIO.read(b.toFile());
        assertEquals(x.getWidth(), y.getWidth());
        assertEquals(x.getHeight(), y.getHeight());
        for (int r = 0; r < x.getHeight(); r++) {
            for (int c = 0; c < x.getWidth(); c++) {
                int p = x.getRGB(c, r), q = y.getRGB(c, r);
                for (int s = 0; s < 24; s += 8) assertTrue(Math.abs(((p >> s) & 0xFF) - ((q >> s) & 0xFF)) <= 1, "pixel " + c + "," + r);
            }
        }
    }

    @Test
    void videoFromCaptionEmbeddingsAsGifAndMp4(@TempDir Path tmp) throws Exception {
        Path stdit = model(tmp.resolve("stdit"), "stdit_v1");
        Path caps = tmp.resolve("caps.safetensors");
        float[] mask = {1, 1, 1, 0, 0, 0};
        CaptionFile.write(caps, new Captions(new SeededGaussian(1).next(1, 6, 48), Tensor.of(mask, 1, 6)), null);
        Path gif = tmp.resolve("v.gif");
        CliRun r = run("generate", "--model", stdit.toString(), "--caption-embeddings", caps.toString(), "--steps", "2",
                "--sampler", "ddim", "--out", gif.toString());
        assertEquals(0, r.code(), r.err());
        try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
            reader.setInput(in);
            assertEquals(4, reader.getNumImages(true), "the model's 4 frames");
            assertEquals(16, reader.read(0).getWidth());
        }
        Path mp4 = tmp.resolve("v.mp4");
        assertEquals(0, run("generate", "--model", stdit.toString(), "--caption-embeddings", caps.toString(), "--steps", "2",
                "--sampler", "ddim", "--frames", "2", "--out", mp4.toString()).code());
        assertTrue(Files.size(mp4) > 100);
        CliRun png = run("generate", "--model", stdit.toString(), "--caption-embeddings", caps.toString(), "--steps", "1",
                "--out", tmp.resolve("v.png").toString());
        assertEquals(1, png.code());
        assertTrue(png.err().contains(".gif or .mp4"), png.err());
    }

    @Test
    void userErrorsAreOneLine(@TempDir Path tmp) throws Exception {
        Path dit = model(tmp.resolve("dit"), "dit");
        String out = tmp.resolve("x.png").toString();
        assertError(run("generate", "--model", tmp.resolve("missing").toString(), "--class-label", "1", "--out", out), "no such model folder");
        assertError(run("generate", "--model", dit.toString(), "--class-label", "1", "--sampler", "euler", "--out", out), "unknown sampler 'euler'");
        assertError(run("generate", "--model", dit.toString(), "--class-label", "1", "--size", "18x16", "--out", out), "multiples of 4");
        assertError(run("generate", "--model", dit.toString(), "--class-label", "1", "--size", "big", "--out", out), "HxW");
        assertError(run("generate", "--model", dit.toString(), "--class-label", "1", "--out", tmp.resolve("x.jpg").toString()), ".png");
        assertError(run("generate", "--model", dit.toString(), "--prompt", "a fox", "--out", out), "class-conditional");
        assertFalse(Files.exists(Path.of(out)));
    }

    private static void assertError(CliRun r, String fragment) {
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: ") && r.err().contains(fragment), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose: " + r.err());
    }
}
