package dev.viditq.eval.mp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.ShapesGenerator;
import dev.viditq.eval.shapes.ShapesPrompt;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.PipelineDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The sensitivity run on the bundled image model cut down to its bones — 2 sampling steps, 2 ranges (one step
 * each), 2 groups, 1 prompt, candidates float and W4A8: the file structure, the float candidate's zero loss (which
 * also checks that replaying the recorded float steps reproduces float), resumption and the refusal of a folder
 * holding other settings.
 */
class SensitivityTest {
    static final Path T2I = Path.of(System.getProperty("viditq.models", "../assets/models")).resolve("shapes-t2i");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path calibration, groups;

    @BeforeAll
    static void calibrate() throws Exception {
        assertTrue(Files.isDirectory(T2I), "bundled model missing: " + T2I.toAbsolutePath());
        calibration = tmp.resolve("t2i.calib.safetensors");
        List<String> prompts = ShapesGenerator.fixed(Kind.IMAGE, Split.CALIB, 1).stream().map(ShapesPrompt::caption).toList();
        try (GenerationPipeline p = GenerationPipeline.load(T2I)) {
            Calibrator.run(new PipelineDriver(p, prompts, 2, null, null, null, null, null, 0, GuidedModel.Batching.BATCHED),
                    calibration, Calibrator.Progress.NONE);
        }
        groups = Files.writeString(tmp.resolve("groups.yaml"), """
                xattn0: 'blocks\\.0\\.cross_attn\\..*'
                mlp1: {kind: mlp, layers: ['blocks\\.1\\.mlp\\.fc1', 'blocks\\.1\\.mlp\\.fc2']}
                """);
    }

    static Sensitivity.Request request(Path out, long seed) {
        return new Sensitivity.Request(T2I, calibration, List.of("float", "W4A8"), 2, groups.toString(), 1, seed, Split.CALIB,
                "viditq-w4a8", 2, out);
    }

    @Test
    void structureFloatZeroAndResumption() throws Exception {
        Path out = tmp.resolve("sens");
        Sensitivity.Result first = Sensitivity.run(request(out, 0), Sensitivity.Progress.NONE);
        assertEquals(8, first.entries(), "2 groups × 2 candidates × 2 ranges");
        assertEquals(8, first.measured());

        JsonNode j = JSON.readTree(out.resolve("sensitivity.json").toFile());
        assertTrue(j.get("complete").asBoolean());
        assertEquals(64, j.get("model_sha256").asText().length());
        assertEquals(2, j.get("steps").asInt());
        assertEquals(List.of("W4A8"), List.of(j.get("candidates").get(0).asText()), "float is no search candidate");
        assertEquals(1, j.get("candidates").size());
        assertEquals(2, j.get("ranges").size());
        assertEquals("[0,1]", j.get("ranges").get(0).get("steps").toString());
        assertEquals("[1,2]", j.get("ranges").get(1).get("steps").toString());
        assertTrue(j.get("ranges").get(0).get("timesteps").get(0).asDouble() > j.get("ranges").get(1).get("timesteps").get(1).asDouble(),
                "the first range holds the high (noisy) timesteps");
        JsonNode g0 = j.get("groups").get(0), g1 = j.get("groups").get(1);
        assertEquals("xattn0", g0.get("name").asText());
        assertEquals("cross_attn", g0.get("kind").asText());
        assertEquals("mlp", g1.get("kind").asText());
        assertEquals("[\"blocks.1.mlp.fc1\",\"blocks.1.mlp.fc2\"]", g1.get("layers").toString());
        assertEquals(2L * 256 * 1024, g1.get("weight_params").asLong(), "fc1 [1024, 256] + fc2 [256, 1024]");
        assertTrue(j.get("float").get("alignment").isNumber());

        JsonNode entries = j.get("entries");
        assertEquals(8, entries.size());
        Set<String> keys = new HashSet<>();
        for (JsonNode e : entries) {
            keys.add(e.get("group").asText() + e.get("range").asInt() + e.get("precision").asText());
            String expectedMetric = e.get("group").asText().equals("xattn0") ? "alignment" : "fidelity";
            assertEquals(expectedMetric, e.get("metric").asText());
            if (e.get("precision").asText().equals("float")) {
                assertEquals(16, e.get("weight_bits").asInt());
                assertEquals(0.0, e.get("metric_delta").asDouble(), 1e-4, "float candidate: no loss " + e);
                assertEquals(0.0, e.get("alignment_delta").asDouble(), 1e-12, e.toString());
                assertTrue(e.get("mse").asDouble() < 1e-8, "float candidate: the float output " + e);
            } else {
                assertEquals(4, e.get("weight_bits").asInt());
                assertEquals(8, e.get("activation_bits").asInt());
                assertTrue(e.get("mse").asDouble() > 0, "4-bit weights change the output: " + e);
            }
        }
        assertEquals(8, keys.size(), "one entry per (group, range, precision)");
        assertEquals(9, Files.readAllLines(out.resolve("sensitivity.csv")).size(), "header + 8 rows");
        for (String c : List.of("float", "W4A8")) {
            for (String m : List.of("alignment", "fidelity", "mse")) {
                assertTrue(Files.size(out.resolve("heatmap-" + c + "-" + m + ".png")) > 500, c + " " + m);
            }
        }
        assertFalse(Files.exists(out.resolve("heatmap-W4A8-temporal.png")), "no temporal groups in an image model");

        // a restart measures nothing again; with three entries lost it measures those three
        assertEquals(0, Sensitivity.run(request(out, 0), Sensitivity.Progress.NONE).measured());
        Path jsonl = out.resolve("entries.jsonl");
        List<String> lines = Files.readAllLines(jsonl);
        assertEquals(8, lines.size());
        Files.write(jsonl, lines.subList(0, 5));
        Sensitivity.Result resumed = Sensitivity.run(request(out, 0), Sensitivity.Progress.NONE);
        assertEquals(3, resumed.measured());
        assertEquals(8, JSON.readTree(out.resolve("sensitivity.json").toFile()).get("entries").size());

        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> Sensitivity.run(request(out, 5), Sensitivity.Progress.NONE));
        assertTrue(other.getMessage().contains("seed"), other.getMessage());
    }

    @Test
    void anotherSamplerIsMeasuredAndRecordedAndAResumeMustMatchIt() throws Exception {
        Sensitivity.Request r = request(tmp.resolve("unused"), 0);
        Path out = tmp.resolve("ddim");
        Sensitivity.Request ddim = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8"), 1, r.groups(), r.count(),
                r.seed(), r.split(), r.quantConfig(), r.steps(), out, null, null, "ddim");
        Sensitivity.Result result = Sensitivity.run(ddim, Sensitivity.Progress.NONE);
        assertEquals(2, result.measured(), "2 groups × 1 candidate × 1 range");
        JsonNode j = JSON.readTree(out.resolve("sensitivity.json").toFile());
        assertEquals("ddim", j.get("sampler").asText());

        Sensitivity.Request recipe = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8"), 1, r.groups(), r.count(),
                r.seed(), r.split(), r.quantConfig(), r.steps(), out, null, null, null);
        assertNotEquals("ddim", dev.viditq.eval.run.Recipe.of(r.model()).sampler(), "the model's own recipe is another sampler");
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> Sensitivity.run(recipe, Sensitivity.Progress.NONE));
        assertTrue(other.getMessage().contains("sampler"), other.getMessage());

        Sensitivity.Request unknown = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8"), 1, r.groups(), r.count(),
                r.seed(), r.split(), r.quantConfig(), r.steps(), tmp.resolve("bad-sampler"), null, null, "euler-x");
        Exception bad = assertThrows(IllegalArgumentException.class, () -> Sensitivity.run(unknown, Sensitivity.Progress.NONE));
        assertTrue(bad.getMessage().contains("euler-x"), bad.getMessage());
    }

    @Test
    void aTimeBoxedRunSaysItIsIncomplete() throws Exception {
        Path out = tmp.resolve("boxed");
        Sensitivity.Request r = request(out, 0);
        Sensitivity.Request boxed = new Sensitivity.Request(r.model(), r.calibration(), r.candidates(), r.ranges(), r.groups(), r.count(),
                r.seed(), r.split(), r.quantConfig(), r.steps(), out, 1e-9);
        Sensitivity.Result result = Sensitivity.run(boxed, Sensitivity.Progress.NONE);
        assertEquals(0, result.measured(), "the time box is over before the first entry");
        JsonNode j = JSON.readTree(out.resolve("sensitivity.json").toFile());
        assertFalse(j.get("complete").asBoolean());
        assertEquals(0, j.get("candidates").size(), "no candidate is measured everywhere");
        assertEquals("[\"W4A8\"]", j.get("candidates_requested").toString());
        assertTrue(Files.isRegularFile(out.resolve("heatmap-W4A8-mse.png")), "maps of what there is (grey cells)");
    }

    /**
     * --around W4A8: the other group runs at W4A8 too, so the W4A8 entries are all the one operating point (measured
     * once, not per entry) and a W8A8 entry changes one group from there; float is refused as a candidate.
     */
    @Test
    void aroundAnOperatingPointChangesOneGroupFromIt() throws Exception {
        Path out = tmp.resolve("around");
        Sensitivity.Request r = request(out, 0);
        Sensitivity.Request around = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8", "W8A8"), 2, r.groups(), r.count(),
                r.seed(), r.split(), r.quantConfig(), r.steps(), out, null, "W4A8", null);
        Sensitivity.Result result = Sensitivity.run(around, Sensitivity.Progress.NONE);
        assertEquals(8, result.entries(), "2 groups × 2 candidates × 2 ranges");
        JsonNode j = JSON.readTree(out.resolve("sensitivity.json").toFile());
        assertEquals("W4A8", j.get("around").asText());
        Set<Double> operatingPoint = new HashSet<>(), changed = new HashSet<>();
        for (JsonNode e : j.get("entries")) {
            double mse = e.get("mse").asDouble();
            assertTrue(mse > 0, "every entry has quantized groups: " + e);
            if (e.get("precision").asText().equals("W4A8")) {
                operatingPoint.add(mse);
                assertEquals(0.0, e.get("seconds").asDouble(), "the operating point is generated once: " + e);
            } else {
                changed.add(mse);
            }
        }
        assertEquals(1, operatingPoint.size(), "all W4A8 entries are the operating point itself");
        assertFalse(changed.contains(operatingPoint.iterator().next()), "raising one group to W8A8 changes the output");

        Sensitivity.Request withFloat = new Sensitivity.Request(r.model(), r.calibration(), List.of("float", "W4A8"), 2, r.groups(), r.count(),
                r.seed(), r.split(), r.quantConfig(), r.steps(), tmp.resolve("around-float"), null, "W4A8", null);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Sensitivity.run(withFloat, Sensitivity.Progress.NONE));
        assertTrue(bad.getMessage().contains("--around"), bad.getMessage());

        // candidates that differ in method, at the operating point: whole runs only
        Path methodsOut = tmp.resolve("around-methods");
        Sensitivity.Request methods = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8", "W4A8-G64", "W4A8-lr8"), 1,
                r.groups(), r.count(), r.seed(), r.split(), r.quantConfig(), r.steps(), methodsOut, null, "W4A8", null);
        assertEquals(6, Sensitivity.run(methods, Sensitivity.Progress.NONE).entries(), "2 groups × 3 candidates");
        Map<String, Double> mseByCandidate = new java.util.HashMap<>();
        for (JsonNode e : JSON.readTree(methodsOut.resolve("sensitivity.json").toFile()).get("entries")) {
            if (e.get("group").asText().equals("mlp1")) mseByCandidate.put(e.get("precision").asText(), e.get("mse").asDouble());
        }
        assertEquals(3, mseByCandidate.size(), mseByCandidate.toString());
        assertNotEquals(mseByCandidate.get("W4A8"), mseByCandidate.get("W4A8-g64"), "groups of 64 change the group's weights: " + mseByCandidate);
        assertNotEquals(mseByCandidate.get("W4A8"), mseByCandidate.get("W4A8-lr8"), "a low-rank branch changes the output: " + mseByCandidate);
        Sensitivity.Request methodRanges = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8-G64"), 2,
                r.groups(), r.count(), r.seed(), r.split(), r.quantConfig(), r.steps(), tmp.resolve("around-methods-2"), null, "W4A8", null);
        IllegalArgumentException ranges = assertThrows(IllegalArgumentException.class, () -> Sensitivity.run(methodRanges, Sensitivity.Progress.NONE));
        assertTrue(ranges.getMessage().contains("--ranges 1"), ranges.getMessage());
    }

    /**
     * Candidates that differ in method: each is measured under its own name with its own weights (grouping, low-rank
     * branch), and a GPTQ candidate with a calibration that holds no Hessians is refused naming the flag.
     */
    @Test
    void methodCandidatesAreMeasuredAndGptqNeedsHessians() throws Exception {
        Sensitivity.Request r = request(tmp.resolve("methods"), 0);
        Sensitivity.Request methods = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8-G64", "W4A8-lr8", "W4A8"), 1,
                r.groups(), r.count(), r.seed(), r.split(), r.quantConfig(), r.steps(), r.out());
        com.fasterxml.jackson.databind.node.ObjectNode json = Sensitivity.run(methods, Sensitivity.Progress.NONE).json();
        assertEquals(List.of("W4A8-g64", "W4A8-lr8", "W4A8"), JSON_NAMES.apply(json.get("candidates")));
        java.util.Map<String, Double> mse = new java.util.HashMap<>();
        for (var e : json.get("entries")) {
            if (e.get("group").asText().equals("mlp1")) mse.put(e.get("precision").asText(), e.get("mse").asDouble());
        }
        assertEquals(3, mse.size(), mse.toString());
        assertTrue(mse.values().stream().distinct().count() == 3, "three methods, three different outputs: " + mse);
        Sensitivity.Request gptq = new Sensitivity.Request(r.model(), r.calibration(), List.of("W4A8-gptq"), 1,
                r.groups(), r.count(), r.seed(), r.split(), r.quantConfig(), r.steps(), tmp.resolve("gptq"));
        String m = assertThrows(IllegalArgumentException.class, () -> Sensitivity.run(gptq, Sensitivity.Progress.NONE)).getMessage();
        assertTrue(m.contains("W4A8-gptq") && m.contains("--hessians"), m);
        String bad = assertThrows(IllegalArgumentException.class, () -> Sensitivity.Candidate.parse("W4A8-gtpq")).getMessage();
        assertTrue(bad.contains("unknown method token 'gtpq'"), bad);
    }

    private static final java.util.function.Function<com.fasterxml.jackson.databind.JsonNode, List<String>> JSON_NAMES = n -> {
        List<String> out = new java.util.ArrayList<>();
        n.forEach(v -> out.add(v.asText()));
        return out;
    };

    @Test
    void rangesTileTheStepsAndBadInputIsNamed() {
        assertEquals(List.of(new Sensitivity.Range(0, 0, 6), new Sensitivity.Range(1, 6, 11), new Sensitivity.Range(2, 11, 16)),
                Sensitivity.ranges(16, 3));
        assertThrows(IllegalArgumentException.class, () -> Sensitivity.ranges(2, 3));
        assertEquals(new Sensitivity.Candidate("W6A8", 6, 8), Sensitivity.Candidate.parse("w6a8"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Sensitivity.Candidate.parse("W9A8"));
        assertTrue(bad.getMessage().contains("2..8"), bad.getMessage());
        assertArrayEquals(new String[]{"blocks.3.attn_temp", "temporal_attn", "3"}, SensitivityGroups.classify("blocks.3.attn_temp.qkv"));
        assertArrayEquals(new String[]{"transformer_blocks.0.attn2", "cross_attn", "0"},
                SensitivityGroups.classify("transformer_blocks.0.attn2.to_k"));
        assertEquals("temporal_attn", SensitivityGroups.classify("temporal_transformer_blocks.1.attn1.to_q")[1]);
        assertNull(SensitivityGroups.classify("t_embedder.mlp.0"));
        // Wan 2.1: self-attention, cross-attention and feed-forward of each block
        assertArrayEquals(new String[]{"blocks.29.ffn", "mlp", "29"}, SensitivityGroups.classify("blocks.29.ffn.net.0.proj"));
        assertEquals("self_attn", SensitivityGroups.classify("blocks.0.attn1.to_out.0")[1]);
        assertEquals("cross_attn", SensitivityGroups.classify("blocks.0.attn2.add_k_proj")[1]);
        assertNull(SensitivityGroups.classify("condition_embedder.time_proj"));
        assertEquals(1.0, SensitivityScoring.relativeInconsistency(new double[]{1, 0.1, 0.2, 0.01, 0}, new double[]{1, 0.1, 0.2, 0.01, 0}));
        assertEquals(1.25, SensitivityScoring.relativeInconsistency(new double[]{1, Double.NaN, 0, 0, 0},
                new double[]{2.05, 0.3, 0, 0, 0}), 1e-12, "(1.05/1.05 + 0 + 0 + 0) / 4 over the defined components");
    }
}
