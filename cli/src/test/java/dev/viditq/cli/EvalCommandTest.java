package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./viditq eval} on the bundled Shapes models at 2 denoising steps: the outputs are not meant to be good,
 * only the protocol is checked (keys, counts, fidelity of a model to itself, files).
 */
class EvalCommandTest {
    static final Path MODELS = Path.of(System.getProperty("viditq.models", "../assets/models"));
    static final Path T2I = MODELS.resolve("shapes-t2i"), T2V = MODELS.resolve("shapes-t2v");




    @Test
    void imagesGiveAlignmentPerAttributeAndSelfFidelity(@TempDir Path tmp) throws Exception {
        assertTrue(Files.isDirectory(T2I), "bundled model missing: " + T2I.toAbsolutePath());
        Path save = tmp.resolve("saved");
        JsonNode j = run("eval", "--model", T2I.toString(), "--reference", T2I.toString(), "--count", "3", "--batch", "2",
                "--steps", "2", "--json", "--save", save.toString()).json();
        assertEquals(3, j.get("count").asInt());
        assertEquals("image", j.get("kind").asText());
        assertTrue(j.get("ground_truth").asBoolean());
        double alignment = j.get("alignment").asDouble();
        assertTrue(alignment >= 0 && alignment <= 1, "alignment " + alignment);
        JsonNode by = j.get("alignment_by_attribute");
        for (String a : new String[]{"shape", "color", "size", "position", "background", "count"}) assertTrue(by.has(a), "attribute " + a);
        assertFalse(by.has("direction"));
        assertEquals(2, j.get("settings").get("steps").asInt());
        assertEquals(2, j.get("settings").get("batch").asInt());
        assertEquals("dpm-solver", j.get("settings").get("sampler").asText(), "the config's pipeline recipe");
        // a model against itself with the same seeds and batches: the same pictures up to a rare 1/255 rounding flip
        // (the JIT's warm-up can reorder float reductions between the two runs)
        double psnr = j.get("psnr").isNumber() ? j.get("psnr").asDouble() : Double.parseDouble(j.get("psnr").asText());
        assertTrue(psnr > 60, "self-PSNR " + psnr);
        assertEquals(1.0, j.get("ssim").asDouble(), 1e-4);
        assertTrue(j.get("reference_scores").get("alignment").isNumber());
        assertTrue(j.get("seconds_per_sample").asDouble() > 0);
        assertEquals(j.get("seconds_per_sample").asDouble() / 2, j.get("seconds_per_step").asDouble(), 1e-12);

        BufferedImage first = ImageIO.read(save.resolve("samples/000.png").toFile());
        assertEquals(32, first.getWidth());
        assertTrue(Files.isRegularFile(save.resolve("samples/002.png")));
        assertTrue(Files.isRegularFile(save.resolve("reference/002.png")));
        BufferedImage sheet = ImageIO.read(save.resolve("contact-sheet.png").toFile());
        assertTrue(sheet.getWidth() > 3 * 128, "three 4x upscaled cells side by side: " + sheet.getWidth());
        assertEquals(4, Files.readAllLines(save.resolve("samples.tsv")).size(), "header + 3 rows");
        assertEquals(3, Json.MAPPER.readTree(save.resolve("report.json").toFile()).get("count").asInt());
    }

    @Test
    void videosReportMotionTemporalAndPerFrameFidelity(@TempDir Path tmp) throws Exception {
        Path save = tmp.resolve("saved");
        JsonNode j = run("eval", "--model", T2V.toString(), "--reference", T2V.toString(), "--count", "1", "--steps", "2", "--json",
                "--save", save.toString()).json();
        assertEquals("video", j.get("kind").asText());
        assertEquals(1, j.get("count").asInt());
        double motion = j.get("motion_accuracy").asDouble();
        assertTrue(motion >= 0 && motion <= 1, "motion accuracy " + motion);
        assertTrue(j.get("alignment_by_attribute").has("direction"));
        assertTrue(j.get("temporal").has("trajectory_residual_px"));
        assertEquals(16, j.get("psnr_per_frame").size());
        assertEquals(16, j.get("ssim_per_frame").size());
        BufferedImage strip = ImageIO.read(save.resolve("samples/000-frames.png").toFile());
        assertEquals(16 * 33 - 1, strip.getWidth(), "16 exact 32-px frames, 1 px apart");
        for (String f : new String[]{"samples/000.gif", "reference/000.gif", "contact-sheet.png", "contact-sheet.gif", "reference-sheet.png"}) {
            assertTrue(Files.isRegularFile(save.resolve(f)), f);
        }
    }

    @Test
    void freeTextPromptsScoreFidelityOnlyAndSaySo(@TempDir Path tmp) throws Exception {
        Path prompts = Files.writeString(tmp.resolve("p.txt"), "a big red circle on a black background\n");
        JsonNode j = run("eval", "--model", T2I.toString(), "--reference", T2I.toString(), "--prompts", prompts.toString(),
                "--steps", "2", "--json").json();
        assertFalse(j.get("ground_truth").asBoolean());
        assertFalse(j.has("alignment"));
        assertTrue(j.get("note").asText().contains("fidelity"), j.get("note").asText());
        assertTrue(j.has("psnr"));
        CliRun text = run("eval", "--model", T2I.toString(), "--prompts", prompts.toString(), "--steps", "2");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("no ground truth"), text.out());
    }

    @Test
    void userErrorsAreOneClearLine() {
        CliRun train = run("eval", "--model", T2I.toString(), "--split", "train");
        assertEquals(1, train.code());
        assertTrue(train.err().contains("calib or eval"), train.err());
        CliRun missing = run("eval", "--model", "no/such/model", "--count", "1");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no/such/model"), missing.err());
        CliRun mismatch = run("eval", "--model", T2I.toString(), "--reference", T2V.toString(), "--count", "1", "--steps", "2");
        assertEquals(1, mismatch.code());
        assertTrue(mismatch.err().contains("same shape"), mismatch.err());
    }
}
