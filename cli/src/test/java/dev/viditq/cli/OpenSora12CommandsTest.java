package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.pipeline.CaptionFile;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.text.Captions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The commands on an Open-Sora 1.2 model folder (STDiT3 + VideoAutoencoderPipeline + T5, {@link OpenSora12Model}):
 * text → video end to end, calibrate → quantize W8A8 → generate and eval from the quantized folder; the bare golden
 * STDiT3 calibrated on caption embeddings, quantized and run forward; parity on the Open-Sora 1.2 golden cases.
 */
class OpenSora12CommandsTest {
    private static final String PROMPT = "a large red circle moving right";

    @TempDir
    static Path tmp;
    private static Path model;

    @BeforeAll
    static void buildModel() throws Exception {
        OpenSora12Model.requireCases();
        model = OpenSora12Model.write(tmp.resolve("opensora12"));
    }

    @Test
    void textToVideoAsGifAndMp4() throws Exception {
        Path gif = tmp.resolve("v.gif");
        JsonNode json = run("generate", "--model", model.toString(), "--prompt", PROMPT, "--steps", "3", "--seed", "5",
                "--out", gif.toString(), "--json").json();
        JsonNode s = json.get("settings");
        assertEquals("rflow", s.get("sampler").asText(), "the family's sampler");
        assertTrue(s.get("cfg_cond_first").asBoolean(), "Open-Sora guides [cond | null]");
        assertEquals(16, s.get("frames").asInt(), "the pipeline block's frames");
        assertEquals(32, s.get("height").asInt());
        assertEquals(24.0, s.get("fps").asDouble(), "the family's frame rate");
        assertEquals(OpenSora12Model.TIMESTEP_SHIFT, s.get("timestep_shift").asDouble(), "the pipeline block's shift");
        List<BufferedImage> frames = gifFrames(gif);
        assertEquals(16, frames.size());
        assertEquals(32, frames.getFirst().getWidth());
        assertFalse(samePixels(frames.getFirst(), frames.getLast()), "the frames differ");

        // 18x22 px is a 9x11 latent: STDiT3 pads it to whole 2x2 patches, as the official PatchEmbed3D does
        Path mp4 = tmp.resolve("v.mp4");
        JsonNode m = run("generate", "--model", model.toString(), "--prompt", PROMPT, "--steps", "2", "--frames", "7",
                "--size", "18x22", "--out", mp4.toString(), "--json").json();
        assertEquals(7, m.get("settings").get("frames").asInt());
        assertEquals(22, m.get("settings").get("width").asInt());
        assertTrue(Files.size(mp4) > 100);
        CliRun odd = run("generate", "--model", model.toString(), "--prompt", PROMPT, "--size", "17x22", "--out", mp4.toString());
        assertEquals(1, odd.code());
        assertTrue(odd.err().contains("multiples of 2 (VAE factor 2; the model pads to whole patches)"), odd.err());
    }

    /** --fps reaches the model's frame-rate embedding: the same seed at another frame rate is another video. */
    @Test
    void frameRateConditionsTheModel() throws Exception {
        List<List<BufferedImage>> videos = new ArrayList<>();
        for (String fps : new String[]{"24", "8"}) {
            Path out = tmp.resolve("fps" + fps + ".gif");
            JsonNode json = run("generate", "--model", model.toString(), "--prompt", PROMPT, "--steps", "2", "--frames", "5",
                    "--fps", fps, "--out", out.toString(), "--json").json();
            assertEquals(Double.parseDouble(fps), json.get("settings").get("fps").asDouble());
            videos.add(gifFrames(out));
        }
        assertFalse(samePixels(videos.get(0).getFirst(), videos.get(1).getFirst()), "fps changed nothing");
        CliRun bad = run("generate", "--model", model.toString(), "--prompt", PROMPT, "--fps", "0", "--out", tmp.resolve("x.gif").toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("--fps must be above 0"), bad.err());
    }

    /** Without pipeline.timestep_shift, Open-Sora's own rule is used and refuses what it does not define, saying what to do. */
    @Test
    void shiftOutsideOpenSorasRuleNeedsTheConfigKey() throws Exception {
        Path bare = tmp.resolve("no-shift");
        OpenSora12Model.write(bare);
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(bare.resolve("config.json").toFile());
        ((ObjectNode) config.get("pipeline")).remove("timestep_shift");
        Files.writeString(bare.resolve("config.json"), config.toString());
        CliRun r = run("generate", "--model", bare.toString(), "--prompt", PROMPT, "--steps", "1", "--out", tmp.resolve("n.gif").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("undefined for 16 frames") && r.err().contains("pipeline.timestep_shift"), r.err());
        JsonNode ok = run("generate", "--model", bare.toString(), "--prompt", PROMPT, "--steps", "1", "--frames", "17",
                "--out", tmp.resolve("n17.gif").toString(), "--json").json();
        assertEquals(Math.sqrt(32.0 * 32 / (512 * 512)) * Math.sqrt(5), ok.get("settings").get("timestep_shift").asDouble(), 1e-12,
                "sqrt(H·W/512²)·sqrt(⌊17/17⌋·5)");
    }

    @Test
    void calibrateQuantizeW8a8AndRunTheQuantizedFolder() throws Exception {
        Path calib = tmp.resolve("os12.calib.safetensors");
        JsonNode c = run("calibrate", "--model", model.toString(), "--count", "2", "--steps", "2", "--out", calib.toString(), "--json").json();
        assertEquals(2, c.get("prompts").asInt());
        assertEquals("rflow", c.get("sampler").asText());
        int linears = c.get("layers").asInt();
        assertTrue(linears > 20, "every Linear observed: " + linears);

        Path q = tmp.resolve("os12-w8a8");
        JsonNode qj = run("quantize", "--model", model.toString(), "--preset", "viditq-w8a8", "--calibration", calib.toString(),
                "--out", q.toString(), "--json").json();
        assertTrue(qj.get("quantized_layers").asInt() > 0);
        assertTrue(Files.isRegularFile(q.resolve("vae/config.json")) && Files.isRegularFile(q.resolve("text_encoder/config.json")),
                "the VAE and the text encoder travel with the quantized folder");

        Path gif = tmp.resolve("q.gif");
        CliRun g = run("generate", "--model", q.toString(), "--prompt", PROMPT, "--steps", "2", "--out", gif.toString());
        assertEquals(0, g.code(), g.err());
        assertEquals(16, gifFrames(gif).size());

        JsonNode e = run("eval", "--model", q.toString(), "--reference", model.toString(), "--count", "2", "--steps", "2",
                "--json").json();
        double psnr = e.get("psnr").asDouble();
        assertTrue(psnr > 20 && Double.isFinite(psnr), "W8A8 stays close to float on the same seeds: " + psnr + " dB");
    }

    /**
     * A bare STDiT3 (no VAE, no text encoder: the golden case folder) calibrates on caption embeddings, with the size and
     * frame-rate conditions it needs, and its W8A8 folder's forward pass stays near the official float output.
     */
    @Test
    void bareStdit3CalibratesOnCaptionEmbeddingsAndItsW8a8ForwardStaysNearTheOfficialOutput() throws Exception {
        Path golden = GoldenFolder.named("golden_next").resolve("stdit3");
        Path caps = tmp.resolve("stdit3-caps.safetensors");
        CaptionFile.write(caps, new Captions(new SeededGaussian(3).next(2, 6, 48), Tensor.of(new float[]{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, 2, 6)), null);
        Path calib = tmp.resolve("stdit3.calib.safetensors");
        JsonNode c = run("calibrate", "--model", golden.toString(), "--caption-embeddings", caps.toString(), "--steps", "2",
                "--size", "4x4", "--frames", "17", "--out", calib.toString(), "--json").json();
        assertEquals(2, c.get("prompts").asInt());
        Path q = tmp.resolve("stdit3-w8a8");
        run("quantize", "--model", golden.toString(), "--preset", "viditq-w8a8", "--calibration", calib.toString(), "--out", q.toString(), "--json").json();
        CliRun f = run("forward", "--precision", "fp32", "--model", q.toString(), "--inputs", golden.resolve("io.safetensors").toString(),
                "--out", tmp.resolve("stdit3-q.safetensors").toString(), "--expect", "out", "--tolerance", "0.05");
        assertEquals(0, f.code(), f.err());
        assertTrue(f.err().contains("quantized model (viditq, 28 layers)"), f.err());
    }

    @Test
    void parityPassesOnTheOpenSora12Goldens() throws Exception {
        Path golden = GoldenFolder.named("golden_next").root();
        JsonNode json = run("parity", "--golden", golden.toString(), "--json").json();
        assertTrue(json.get("pass").asBoolean(), json.toPrettyString());
        List<String> cases = new ArrayList<>();
        json.get("cases").forEach(c -> cases.add(c.get("name").asText()));
        assertTrue(cases.contains("stdit3") && cases.contains("opensora_vae") && cases.stream().anyMatch(n -> n.contains("rflow")),
                "every Open-Sora 1.2 case ran: " + cases);
    }

    private static List<BufferedImage> gifFrames(Path gif) throws Exception {
        try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
            reader.setInput(in);
            List<BufferedImage> frames = new ArrayList<>();
            for (int i = 0, n = reader.getNumImages(true); i < n; i++) frames.add(reader.read(i));
            return frames;
        }
    }

    private static boolean samePixels(BufferedImage a, BufferedImage b) {
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) if (a.getRGB(x, y) != b.getRGB(x, y)) return false;
        }
        return true;
    }
}
