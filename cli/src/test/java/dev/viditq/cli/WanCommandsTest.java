package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.nn.pipeline.ModelFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The commands on a Wan 2.1 folder (tiny random weights, {@link TinyWan}): text → umT5 → transformer → UniPC with
 * guidance → Wan VAE → video; calibration, W8A8 quantization and generation from the quantized folder.
 */
class WanCommandsTest {
    @TempDir
    static Path shared;
    static Path wan;

    @BeforeAll
    static void folder() throws Exception {
        wan = TinyWan.diffusers(shared.resolve("Wan2.1-T2V-tiny-Diffusers"));
    }

    private static CliRun generate(Path model, Path out, String... extra) {
        String[] base = {"generate", "--model", model.toString(), "--prompt", "a cat walks on the grass", "--size", "32x32",
                "--frames", "5", "--steps", "3", "--seed", "4", "--out", out.toString(), "--json"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return run(args);
    }

    @Test
    void generatesAVideoWithTheFamilysSampler(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("cat.gif");
        JsonNode json = generate(wan, out).json();
        JsonNode s = json.get("settings");
        assertEquals("unipc", s.get("sampler").asText(), "the folder's UniPC scheduler");
        assertEquals(5.0, s.get("cfg_scale").asDouble(), "Wan's guidance scale");
        assertEquals(5, s.get("frames").asInt());
        BufferedImage[] frames = gifFrames(out);
        assertEquals(5, frames.length, "1 + 4·(2 − 1) frames from 2 latent frames");
        assertEquals(32, frames[0].getWidth());
        assertFalse(uniform(frames[0]), "the random VAE still draws something, not one flat colour");
    }

    @Test
    void theOriginalRepositoryLayoutGeneratesTheSameVideo(@TempDir Path tmp) throws Exception {
        Path original = TinyWan.original(tmp.resolve("Wan2.1-T2V-tiny"));
        // every command resolves the folder this way: calibrate and sweep then see a text encoder too
        ModelFolder parts = ModelFolder.resolve(original);
        assertEquals(original.resolve("models_t5_umt5-xxl-enc-bf16.safetensors"), parts.textEncoder());
        assertEquals(original.resolve("google/umt5-xxl"), parts.tokenizer());
        Path a = tmp.resolve("diffusers.gif"), b = tmp.resolve("original.gif");
        generate(wan, a).json();
        JsonNode json = generate(original, b).json();
        assertEquals("unipc", json.get("settings").get("sampler").asText(), "no scheduler/: the family's sampler");
        BufferedImage[] x = gifFrames(a), y = gifFrames(b);
        assertEquals(x.length, y.length);
        assertTrue(meanAbsDifference(x, y) < 0.5, "the same weights under the original names: " + meanAbsDifference(x, y));
    }

    @Test
    void refusesClipLengthsTheVaeCannotMake(@TempDir Path tmp) {
        CliRun r = run("generate", "--model", wan.toString(), "--prompt", "a red fox", "--size", "32x32", "--frames", "6",
                "--steps", "1", "--out", tmp.resolve("x.gif").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("1 + 4·k") && r.err().contains("use 5 or 9"), r.err());
    }

    @Test
    void imageToVideoFolderAsksForTheImageThenSaysWhatIsMissing(@TempDir Path tmp) throws Exception {
        Path i2v = TinyWan.imageToVideo(tmp.resolve("Wan2.1-I2V-tiny"));
        CliRun noImage = run("generate", "--model", i2v.toString(), "--prompt", "a red fox", "--size", "32x32", "--frames", "5",
                "--steps", "1", "--out", tmp.resolve("a.gif").toString());
        assertEquals(1, noImage.code());
        assertTrue(noImage.err().contains("image-to-video") && noImage.err().contains("--image"), noImage.err());

        Path first = tmp.resolve("first.png");
        ImageIO.write(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB), "png", first.toFile());
        CliRun withImage = run("generate", "--model", i2v.toString(), "--prompt", "a red fox", "--image", first.toString(),
                "--size", "32x32", "--frames", "5", "--steps", "1", "--out", tmp.resolve("b.gif").toString());
        assertEquals(1, withImage.code());
        assertTrue(withImage.err().contains("CLIP image encoder") && withImage.err().contains("not implement"), withImage.err());
        assertFalse(Files.exists(tmp.resolve("b.gif")));

        CliRun t2vWithImage = generate(wan, tmp.resolve("c.gif"), "--image", first.toString());
        assertEquals(1, t2vWithImage.code());
        assertTrue(t2vWithImage.err().contains("text alone"), t2vWithImage.err());
    }

    @Test
    void calibratesQuantizesW8a8AndGeneratesFromTheQuantizedFolder(@TempDir Path tmp) throws Exception {
        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "a red fox in snow\nwaves at dusk\n");
        Path calib = tmp.resolve("wan.calib.safetensors");
        JsonNode c = run("calibrate", "--model", wan.toString(), "--prompts", prompts.toString(), "--size", "32x32", "--frames", "5",
                "--steps", "2", "--out", calib.toString(), "--json").json();
        assertTrue(Files.isRegularFile(calib), c.toString());

        Path q = tmp.resolve("wan-w8a8");
        run("quantize", "--model", wan.toString(), "--preset", "viditq-w8a8", "--calibration", calib.toString(), "--out", q.toString(),
                "--json").json();
        try (TensorFile f = Checkpoints.open(Checkpoints.findIn(q.resolve("transformer")))) {
            assertEquals(DType.I8, quantizedWeight(f, "blocks.0.attn1.to_q"), "block Linears are int8");
            assertEquals(DType.I8, quantizedWeight(f, "blocks.1.ffn.net.2"));
            assertTrue(f.get("condition_embedder.time_proj.weight").dtype().isFloating(), "the time embedding stays float");
            assertTrue(f.get("proj_out.weight").dtype().isFloating(), "the head stays float");
        }
        assertTrue(Files.isRegularFile(q.resolve("vae/config.json")) && Files.isRegularFile(q.resolve("tokenizer/tokenizer.json")),
                "the pipeline's other parts are copied");

        Path fromFloat = tmp.resolve("float.gif"), fromQuantized = tmp.resolve("w8a8.gif");
        generate(wan, fromFloat).json();
        generate(q, fromQuantized).json();
        BufferedImage[] a = gifFrames(fromFloat), b = gifFrames(fromQuantized);
        assertEquals(a.length, b.length);
        double diff = meanAbsDifference(a, b);
        assertTrue(diff > 0, "integer kernels are not the float path");
        assertTrue(diff < 40, "W8A8 stays near float on this model: mean |Δ| " + diff + " of 255");
    }

    /** The int8 tensor of a quantized Linear (its name in the quantized checkpoint format). */
    private static DType quantizedWeight(TensorFile f, String layer) {
        for (String n : f.names()) {
            if (n.startsWith(layer + ".") && !n.equals(layer + ".bias") && f.get(n).dtype() == DType.I8) return DType.I8;
        }
        return null;
    }

    static BufferedImage[] gifFrames(Path gif) throws Exception {
        ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
            reader.setInput(in);
            int n = reader.getNumImages(true);
            BufferedImage[] frames = new BufferedImage[n];
            for (int i = 0; i < n; i++) frames[i] = reader.read(i);
            return frames;
        } finally {
            reader.dispose();
        }
    }

    private static boolean uniform(BufferedImage img) {
        int first = img.getRGB(0, 0);
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if (img.getRGB(x, y) != first) return false;
        return true;
    }

    private static double meanAbsDifference(BufferedImage[] a, BufferedImage[] b) {
        double sum = 0;
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            for (int y = 0; y < a[i].getHeight(); y++) {
                for (int x = 0; x < a[i].getWidth(); x++) {
                    int p = a[i].getRGB(x, y), q = b[i].getRGB(x, y);
                    for (int s = 0; s < 24; s += 8) sum += Math.abs(((p >> s) & 0xFF) - ((q >> s) & 0xFF));
                    n += 3;
                }
            }
        }
        return sum / n;
    }
}
