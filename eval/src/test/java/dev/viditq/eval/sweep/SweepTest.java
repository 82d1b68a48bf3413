package dev.viditq.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.shapes.Split;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./viditq sweep} end to end on a tiny model (the bundled Shapes image model cut to 2 of its 6 blocks) with two
 * settings, 2 prompts and 2 sampling steps: the outputs are meaningless, the protocol is what is checked — the table,
 * each setting measured in its own process, resumption, the report, and refusals of bad input.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SweepTest {
    static final Path BUNDLED = Path.of(System.getProperty("viditq.models", "../assets/models")).resolve("shapes-t2i");

    @TempDir
    static Path tmp;
    Path model, run;
    ObjectNode summary;
    final List<String> messages = new ArrayList<>();

    @BeforeAll
    void sweepOnce() throws IOException {
        model = tinyModel(tmp.resolve("tiny-t2i"), 2);
        run = tmp.resolve("run");
        summary = Sweep.run(request(model, run, "float", "viditq-w8a8"), listener(messages));
    }

    static SweepRequest request(Path model, Path out, String... settings) {
        return new SweepRequest(model, SweepSetting.parse(List.of(settings), List.of()), Split.EVAL, 2, 0, 2, 2, null, 1, 2, out);
    }

    static Sweep.Listener listener(List<String> messages) {
        return new Sweep.Listener() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        };
    }

    /** The bundled model's config, text encoder and tokenizer with only its first {@code depth} blocks. */
    static Path tinyModel(Path dir, int depth) throws IOException {
        Files.createDirectories(dir);
        for (String sub : new String[]{"text_encoder", "tokenizer"}) {
            Files.createDirectories(dir.resolve(sub));
            try (Stream<Path> files = Files.list(BUNDLED.resolve(sub))) {
                for (Path f : files.toList()) Files.copy(f, dir.resolve(sub).resolve(f.getFileName()));
            }
        }
        String config = Files.readString(BUNDLED.resolve("config.json")).replaceFirst("\"depth\"\\s*:\\s*\\d+", "\"depth\": " + depth);
        Files.writeString(dir.resolve("config.json"), config);
        try (TensorFile f = Checkpoints.open(BUNDLED.resolve("model.safetensors"))) {
            Map<String, Tensor> kept = new LinkedHashMap<>();
            for (String name : f.names()) {
                if (!name.startsWith("blocks.") || Integer.parseInt(name.split("\\.")[1]) < depth) kept.put(name, f.get(name));
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), kept);
        }
        return dir;
    }

    @Test
    void tableHasEverySettingWithFidelityAgainstFloatSizesAndMemory() throws IOException {
        JsonNode settings = summary.get("settings");
        assertEquals(2, settings.size());
        JsonNode flt = settings.get(0), w8 = settings.get(1);
        assertEquals("float", flt.get("setting").asText());
        assertEquals("viditq-w8a8", w8.get("setting").asText());
        assertTrue(flt.get("psnr").isNull(), "float is the reference");
        double psnr = w8.get("psnr").asDouble();
        assertTrue(psnr > 10 && psnr < 200, "PSNR of W8A8 against float: " + psnr);
        for (JsonNode s : settings) {
            double a = s.get("alignment").asDouble();
            assertTrue(a >= 0 && a <= 1, "alignment " + a);
            assertEquals(6, s.get("alignment_by_attribute").size(), "image attributes");
            assertTrue(s.get("peak_rss_bytes").asLong() > 50L << 20, "peak RSS of a JVM that generated: " + s.get("peak_rss_bytes"));
            assertTrue(s.get("sec_per_step").asDouble() > 0);
            assertEquals(2, s.get("settings").get("steps").asInt());
            assertTrue(Files.isRegularFile(run.resolve(s.get("setting").asText()).resolve("result.json")));
            BufferedImage sheet = ImageIO.read(run.resolve(s.get("setting").asText()).resolve("contact-sheet.png").toFile());
            assertTrue(sheet.getWidth() >= 2 * 128, "two 4x upscaled samples");
        }
        // integer weights: fewer bytes on disk and resident than the float model's
        assertTrue(w8.get("model_bytes").asLong() < flt.get("model_bytes").asLong());
        assertTrue(w8.get("resident_weight_bytes").asLong() < flt.get("resident_weight_bytes").asLong());
        // int8 per channel: 8 bits a weight plus one F32 scale and one I8 zero point per output row, over in = 64..256
        assertTrue(flt.get("stored_bits_per_weight").isNull());
        double bits = w8.get("stored_bits_per_weight").asDouble();
        assertTrue(bits > 8 && bits < 8.7, "W8A8 stores " + bits + " bits per weight");
        assertTrue(Files.isDirectory(run.resolve("viditq-w8a8/model")), "the quantized folder is kept");
        assertTrue(Files.isRegularFile(run.resolve("calibration.safetensors")));
        String md = Files.readString(run.resolve("summary.md"));
        assertTrue(md.contains("| float | "), md);
        assertTrue(md.contains("| viditq-w8a8 | "), md);
        assertTrue(md.contains("viditq-w8a8 PSNR against float >= 30 dB"), md);
        assertEquals(SweepTable.markdown(summary), md);
    }

    @Test
    void aRerunSkipsFinishedSettings() throws IOException {
        Path result = run.resolve("viditq-w8a8/result.json");
        FileTime before = Files.getLastModifiedTime(result);
        List<String> again = new ArrayList<>();
        ObjectNode second = Sweep.run(request(model, run, "float", "viditq-w8a8"), listener(again));
        assertEquals(before, Files.getLastModifiedTime(result), "not measured again");
        assertTrue(again.stream().noneMatch(m -> m.contains("evaluating")), String.join("\n", again));
        assertEquals(2, again.stream().filter(m -> m.contains("finished earlier")).count(), String.join("\n", again));
        assertEquals(summary.get("settings").get(1).get("psnr"), second.get("settings").get(1).get("psnr"));
    }

    @Test
    void anotherSamplerReachesCalibrationAndEvaluation() throws IOException {
        Path out = tmp.resolve("sweep-ddim");
        SweepRequest ddim = new SweepRequest(model, SweepSetting.parse(List.of("float", "viditq-w8a8"), List.of()), Split.EVAL, 2, 0, 2, 2,
                "ddim", 1, 2, out);
        Sweep.run(ddim, Sweep.Listener.NONE);
        for (String setting : List.of("float", "viditq-w8a8")) {
            JsonNode result = new ObjectMapper().readTree(out.resolve(setting).resolve("result.json").toFile());
            assertEquals("ddim", result.path("settings").path("sampler").asText(), setting + ": " + result.path("settings"));
        }
        assertEquals("\"ddim\"", new ObjectMapper().readTree(out.resolve("sweep.json").toFile()).path("sampler").toString());
    }

    @Test
    void aRunDirectoryOfOtherInputsIsRefused() {
        SweepRequest moreSteps = new SweepRequest(model, SweepSetting.parse(List.of("float"), List.of()), Split.EVAL, 2, 0, 2, 3, null, 1, 2, run);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sweep.run(moreSteps, Sweep.Listener.NONE));
        assertTrue(e.getMessage().contains("steps 2 -> 3"), e.getMessage());
        SweepRequest ddim = new SweepRequest(model, SweepSetting.parse(List.of("float"), List.of()), Split.EVAL, 2, 0, 2, 2, "ddim", 1, 2, run);
        IllegalArgumentException sampler = assertThrows(IllegalArgumentException.class, () -> Sweep.run(ddim, Sweep.Listener.NONE));
        assertTrue(sampler.getMessage().contains("sampler (the recipe's) -> \"ddim\""), sampler.getMessage());
    }

    @Test
    void badSettingsAndModelsAreRefusedBeforeAnyWork() throws IOException {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SweepSetting.parse(List.of("float", "viditq-w9a9"), List.of()));
        assertTrue(unknown.getMessage().contains("unknown setting 'viditq-w9a9'") && unknown.getMessage().contains("viditq-w4a8"), unknown.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> SweepSetting.parse(List.of("float", "naive-w8a8", "naive-w8a8"), List.of()));
        assertTrue(twice.getMessage().contains("'naive-w8a8' is given twice"), twice.getMessage());
        IllegalArgumentException noPlan = assertThrows(IllegalArgumentException.class,
                () -> SweepSetting.parse(List.of("float"), List.of(tmp.resolve("missing-plan.yaml"))));
        assertTrue(noPlan.getMessage().contains("missing-plan.yaml"), noPlan.getMessage());

        Path plan = Files.writeString(tmp.resolve("viditq-w8a8.yaml"), "preset: viditq-w8a8\n");
        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
                () -> SweepSetting.parse(List.of("float", "viditq-w8a8"), List.of(plan)));
        assertTrue(clash.getMessage().contains("given twice") && clash.getMessage().contains("rename"), clash.getMessage());
        List<SweepSetting> parsed = SweepSetting.parse(List.of("naive-w8a8"), List.of(plan));
        assertEquals(List.of("float", "naive-w8a8", "viditq-w8a8"), parsed.stream().map(SweepSetting::name).toList(), "float put first");
        assertEquals(SweepSetting.Source.CONFIG, parsed.get(2).source());

        Path out = tmp.resolve("never-made");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Sweep.run(request(tmp.resolve("no-such-model"), out, "float"), Sweep.Listener.NONE));
        assertTrue(missing.getMessage().contains("no-such-model") && missing.getMessage().contains("no such model folder"), missing.getMessage());
        assertFalse(Files.exists(out), "nothing written for a bad model");
        IllegalArgumentException quantized = assertThrows(IllegalArgumentException.class,
                () -> Sweep.run(request(run.resolve("viditq-w8a8/model"), out, "float"), Sweep.Listener.NONE));
        assertTrue(quantized.getMessage().contains("already quantized"), quantized.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aBadConfigFailsBeforeAnythingIsWritten() throws IOException {
        Path bad = Files.writeString(tmp.resolve("typo.yaml"), "preset: viditq-w8a8\nweight:\n  bitz: 4\n");
        Path out = tmp.resolve("typo-run");
        SweepRequest req = new SweepRequest(model, SweepSetting.parse(List.of("float", bad.toString()), List.of()), Split.EVAL, 2, 0, 2, 2, null, 1, 2, out);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sweep.run(req, Sweep.Listener.NONE));
        assertTrue(e.getMessage().contains("setting typo") && e.getMessage().contains("bitz"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void theReportEmbedsTablesChartsSamplesAndSensitivityPlots() throws IOException {
        Path sensitivity = Files.createDirectories(tmp.resolve("sens"));
        Files.copy(run.resolve("float/contact-sheet.png"), sensitivity.resolve("heatmap-cross_attn.png"));
        Path html = tmp.resolve("report.html");
        SweepReport.Written w = SweepReport.write(new SweepReport.Request(List.of(run), List.of(sensitivity), html, 2));
        String page = Files.readString(html);
        assertTrue(page.contains("<th>viditq-w8a8</th>"), "side by side column");
        assertTrue(page.contains("<td>viditq-w8a8</td>"), "metric table row");
        assertTrue(page.contains("heatmap-cross_attn.png"));
        assertFalse(page.contains("src=\"" + run), "every image embedded, nothing linked");
        // 2 charts + 2 prompts x 2 settings + 2 contact sheets + 1 sensitivity plot
        assertEquals(2 + 4 + 2 + 1, w.images());
        assertEquals(w.images(), page.split("src=\"data:image/").length - 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SweepReport.write(new SweepReport.Request(List.of(tmp), List.of(), tmp.resolve("r.html"), 2)));
        assertTrue(e.getMessage().contains("summary.json"), e.getMessage());
    }
}
