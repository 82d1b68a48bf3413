package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.StepContext;
import dev.viditq.quant.runtime.QuantizedModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.viditq.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code search} → {@code quantize --plan} → the quantized folder on the integer kernels, on the golden STDiT (random
 * weights, 2 blocks with spatial, temporal and cross attention and MLP): the plan's byte count is what quantize
 * stores, and at every step range the mixed-precision model computes exactly what a model quantized uniformly with
 * that range's precisions computes.
 */
class SearchCommandTest {
    private static Path stdit;
    private static final String[] MODULES = {"attn", "attn_temp", "cross_attn", "mlp"};
    private static final String[] KINDS = {"self_attn", "temporal_attn", "cross_attn", "mlp"};
    private static final String[] METRICS = {"fidelity", "temporal", "alignment", "fidelity"};

    @TempDir
    static Path tmp;

    @BeforeAll
    static void needGolden() {
        stdit = GoldenFolder.GOLDEN.resolve("stdit_v1");
    }

    /** A sensitivity.json for the golden STDiT: its 8 groups, 4 ranges of 5 steps, random deltas. */
    private static Path sensitivity(Path dir, String sha) throws Exception {
        return sensitivity(dir, sha, "W4A8", "W6A8", "W8A8");
    }

    /** The same with three other candidates (the later ones lose less). */
    private static Path sensitivity(Path dir, String sha, String... candidates) throws Exception {
        ObjectNode root = Json.object();
        root.put("model", stdit.toString());
        root.put("model_sha256", sha);
        root.put("steps", 20);
        ArrayNode cands = root.putArray("candidates");
        for (String c : candidates) cands.add(c);
        ArrayNode ranges = root.putArray("ranges");
        for (int r = 0; r < 4; r++) {
            ObjectNode n = ranges.addObject();
            n.put("index", r);
            n.putArray("steps").add(5 * r).add(5 * r + 5);
        }
        ArrayNode groups = root.putArray("groups"), entries = root.putArray("entries");
        Random rnd = new Random(7);
        try (Denoiser m = ModelLoader.load(stdit)) {
            for (int b = 0; b < 2; b++) {
                for (int k = 0; k < MODULES.length; k++) {
                    String name = "blocks." + b + "." + MODULES[k];
                    ObjectNode g = groups.addObject();
                    g.put("name", name);
                    g.put("kind", KINDS[k]);
                    ArrayNode layers = g.putArray("layers");
                    long params = 0;
                    for (var l : m.linears().values()) {
                        if (l.name().startsWith(name + ".")) {
                            layers.add(l.name());
                            params += (long) l.inFeatures() * l.outFeatures();
                        }
                    }
                    g.put("weight_params", params);
                    for (int r = 0; r < 4; r++) {
                        double base = rnd.nextDouble();
                        for (int c = 0; c < 3; c++) {
                            ObjectNode e = entries.addObject();
                            e.put("group", name).put("range", r).put("precision", candidates[c]);
                            e.put("metric", METRICS[k]).put("metric_delta", base / (1 + 4 * c)).put("mse", base * 1e-3 / (1 + 5 * c));
                        }
                    }
                }
            }
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("sensitivity.json"), Json.MAPPER.writeValueAsString(root));
        return dir;
    }

    @Test
    void planRoundTripThroughQuantizeRunsEachRangeAtItsPrecision() throws Exception {
        Path model = stdit;
        Path sens = sensitivity(tmp.resolve("sens"), SearchCommand.sha256(model.resolve("model.safetensors")));
        Path plan = tmp.resolve("plan.yaml");
        // quarot: rotation only, so no calibration is needed and every quantization is reproducible
        CliRun s = run("search", "--sensitivity", sens.toString(), "--budget", "5.2", "--preset", "quarot-w8a8",
                "--out", plan.toString(), "--json");
        assertEquals(0, s.code(), s.err());
        JsonNode sj = Json.MAPPER.readTree(s.out());
        JsonNode chosen = null;
        for (JsonNode r : sj.get("results")) if (r.get("method").asText().equals(sj.get("chosen").asText())) chosen = r;
        assertNotNull(chosen);
        assertTrue(chosen.get("average_weight_bits").asDouble() <= 5.2 + 1e-12);
        String yaml = Files.readString(plan);
        assertTrue(yaml.startsWith("# ViDiT-Q-MP plan"), yaml);
        assertTrue(yaml.contains("Stored quantized weights: " + chosen.get("stored_bytes").asLong() + " bytes"), yaml);

        Path q = tmp.resolve("q-mp");
        CliRun qr = run("quantize", "--model", model.toString(), "--plan", plan.toString(), "--out", q.toString(), "--json");
        assertEquals(0, qr.code(), qr.err());
        JsonNode qj = Json.MAPPER.readTree(qr.out());
        assertEquals(chosen.get("stored_bytes").asLong(), qj.get("packed_weight_bytes").asLong(),
                "the search's byte count is what quantize stores");
        assertEquals(chosen.get("stored_bits_per_weight").asDouble(), qj.get("stored_bits_per_weight").asDouble(), 1e-9,
                "quantize reports the stored bits per weight the search planned");

        Map<String, List<String>> allocation = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : chosen.get("allocation").properties()) {
            List<String> p = new ArrayList<>();
            e.getValue().forEach(v -> p.add(v.asText()));
            allocation.put(e.getKey(), p);
        }
        assertTrue(allocation.values().stream().anyMatch(p -> p.stream().distinct().count() > 1),
                "the fixture should make some group change precision between ranges: " + allocation);
        try (Denoiser mp = ModelLoader.load(q)) {
            long resident = QuantizedModel.residentBytes(mp);
            assertTrue(resident >= qj.get("packed_weight_bytes").asLong() * 0.9, "resident " + resident);
            List<Tensor> perRange = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                Tensor uniform = uniformOutput(model, allocation, r);
                for (int step : new int[]{5 * r, 5 * r + 4}) {
                    Tensor got = StepContext.callWith(new StepContext(step, 20, 999 - 50.0 * step, StepContext.CfgHalf.NONE), () -> forward(mp));
                    assertTrue(relErr(got, uniform) < 1e-5, "range " + r + " step " + step + ": " + relErr(got, uniform));
                }
                perRange.add(uniform);
            }
            boolean differs = false;
            for (int r = 1; r < 4; r++) differs |= relErr(perRange.get(r), perRange.get(0)) > 1e-3;
            assertTrue(differs, "ranges at different precisions should give different outputs");
        }
    }

    /** Output of the model quantized with range r's precisions at every step (a plan without step ranges). */
    private static Tensor uniformOutput(Path model, Map<String, List<String>> allocation, int r) throws Exception {
        StringBuilder y = new StringBuilder("preset: quarot-w8a8\nweight: {bits: 4}\nactivation: {bits: 8}\nbit_map:\n");
        allocation.forEach((group, precisions) -> {
            int bits = precisions.get(r).charAt(1) - '0';
            if (bits != 4) y.append("  - {layers: '").append(group.replace(".", "\\.")).append("\\..*', weight_bits: ").append(bits).append("}\n");
        });
        Path cfg = tmp.resolve("uniform-" + r + ".yaml");
        Files.writeString(cfg, y.toString().endsWith("bit_map:\n") ? y.toString().replace("bit_map:\n", "") : y.toString());
        Path out = tmp.resolve("q-uniform-" + r);
        CliRun qr = run("quantize", "--model", model.toString(), "--config", cfg.toString(), "--out", out.toString());
        assertEquals(0, qr.code(), qr.err());
        try (Denoiser m = ModelLoader.load(out)) {
            return forward(m);
        }
    }

    private static Tensor forward(Denoiser model) {
        try (TensorFile io = Safetensors.open(stdit.resolve("io.safetensors"))) {
            return model.forward(io.get("x").copy(), io.get("t").copy(), Conditioning.caption(io.get("y").copy(), io.get("mask").copy()));
        }
    }

    private static double relErr(Tensor a, Tensor b) {
        float[] x = a.toFloatArray(), z = b.toFloatArray();
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - z[i]) * (double) (x[i] - z[i]);
            den += z[i] * (double) z[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    /**
     * Candidates that differ in method (round-to-nearest per channel, groups of 16, a rank-4 branch): the plan
     * gives groups their methods through layer_methods, quantize builds it, the folder records each layer's method,
     * stores exactly the bytes the search counted, and runs.
     */
    @Test
    void aPlanOverMethodsRoundTripsThroughQuantizeAndRuns() throws Exception {
        String sha = SearchCommand.sha256(stdit.resolve("model.safetensors"));
        Path sens = sensitivity(tmp.resolve("sens-methods"), sha, "W4A8-rtn", "W4A8-g16", "W4A8-lr4");
        long least = storedBytes(sens, "8", "W4A8-rtn"), most = storedBytes(sens, "8", null);
        assertTrue(most > least, most + " vs " + least);
        Path plan = tmp.resolve("plan-methods.yaml");
        CliRun s = run("search", "--sensitivity", sens.toString(), "--budget", (least + most) / 2 + "B", "--preset", "quarot-w8a8",
                "--same-for-all-ranges", "--out", plan.toString(), "--json");
        assertEquals(0, s.code(), s.err());
        JsonNode chosen = chosen(Json.MAPPER.readTree(s.out()));
        assertTrue(chosen.get("stored_bytes").asLong() <= (least + most) / 2);
        String yaml = Files.readString(plan);
        assertTrue(yaml.contains("layer_methods:"), yaml);
        Map<String, String> byGroup = new LinkedHashMap<>();
        chosen.get("allocation").properties().forEach(e -> byGroup.put(e.getKey(), e.getValue().get(0).asText()));
        assertTrue(byGroup.values().stream().distinct().count() > 1, "the budget should mix methods: " + byGroup);

        Path q = tmp.resolve("q-methods");
        CliRun qr = run("quantize", "--model", stdit.toString(), "--plan", plan.toString(), "--out", q.toString(), "--json");
        assertEquals(0, qr.code(), qr.err());
        assertEquals(chosen.get("stored_bytes").asLong(), Json.MAPPER.readTree(qr.out()).get("packed_weight_bytes").asLong(),
                "the search's byte count is what quantize stores");
        var recorded = dev.viditq.quant.checkpoint.QuantizedCheckpoint.readPlan(q);
        byGroup.forEach((group, candidate) -> recorded.layers().values().forEach(lp -> {
            if (!lp.name().startsWith(group + ".")) return;
            var spec = recorded.weightsOf(lp);
            int groupSize = spec.granularity() == dev.viditq.quant.config.QuantConfig.WeightGranularity.GROUP ? spec.groupSize() : 0;
            assertEquals(candidate.endsWith("-g16") ? 16 : 0, groupSize, lp.name() + " " + candidate);
            assertEquals(candidate.endsWith("-lr4") ? 4 : 0, lp.lowRank(), lp.name() + " " + candidate);
        }));
        try (Denoiser mp = ModelLoader.load(q); Denoiser fp = ModelLoader.load(stdit)) {
            Tensor got = forward(mp), want = forward(fp);
            for (float v : got.toFloatArray()) assertTrue(Float.isFinite(v));
            double err = relErr(got, want);
            assertTrue(err > 0 && err < 0.5, "4-bit weights of mixed methods against float: " + err);
        }
    }

    private static JsonNode chosen(JsonNode sj) {
        for (JsonNode r : sj.get("results")) if (r.get("method").asText().equals(sj.get("chosen").asText())) return r;
        throw new AssertionError("no chosen result in " + sj);
    }

    /** Stored bytes of the plan a search writes with this budget (and only this candidate, when given). */
    private static long storedBytes(Path sens, String budget, String only) throws Exception {
        Path plan = tmp.resolve("probe-" + (only == null ? "all" : only) + ".yaml");
        List<String> args = new ArrayList<>(List.of("search", "--sensitivity", sens.toString(), "--budget", budget, "--preset", "quarot-w8a8",
                "--same-for-all-ranges", "--out", plan.toString(), "--json"));
        if (only != null) args.addAll(List.of("--candidates", only));
        CliRun s = run(args.toArray(String[]::new));
        assertEquals(0, s.code(), s.err());
        return chosen(Json.MAPPER.readTree(s.out())).get("stored_bytes").asLong();
    }

    @Test
    void thePlanStartsFromThePresetTheBitsOnlyCandidatesWereMeasuredWith() throws Exception {
        Path sens = sensitivity(tmp.resolve("sens-preset"), SearchCommand.sha256(stdit.resolve("model.safetensors")));
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(sens.resolve("sensitivity.json").toFile());
        root.put("preset", "quarot-w8a8");
        Files.writeString(sens.resolve("sensitivity.json"), Json.MAPPER.writeValueAsString(root));
        Path plan = tmp.resolve("plan-preset.yaml");
        CliRun s = run("search", "--sensitivity", sens.toString(), "--budget", "5.2", "--out", plan.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(Files.readString(plan).contains("\npreset: quarot-w8a8\n"), Files.readString(plan));

        Path other = tmp.resolve("plan-other-preset.yaml");
        CliRun refused = run("search", "--sensitivity", sens.toString(), "--budget", "5.2", "--preset", "viditq-w4a8", "--out", other.toString());
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("measured with quarot-w8a8's weight method"), refused.err());
        assertFalse(Files.exists(other), "nothing written on failure");
    }

    @Test
    void refusals() throws Exception {
        Path sens = sensitivity(tmp.resolve("sens2"), "deadbeef");
        CliRun sha = run("search", "--sensitivity", sens.toString(), "--budget", "4.5", "--out", tmp.resolve("p.yaml").toString());
        assertEquals(1, sha.code());
        assertTrue(sha.err().contains("was measured on weights with sha256 deadbeef"), sha.err());
        Path good = sensitivity(tmp.resolve("sens3"), SearchCommand.sha256(stdit.resolve("model.safetensors")));
        CliRun low = run("search", "--sensitivity", good.toString(), "--budget", "3.9", "--out", tmp.resolve("p.yaml").toString());
        assertEquals(1, low.code());
        assertTrue(low.err().contains("the minimum is 4.000 average weight bits"), low.err());
        CliRun method = run("search", "--sensitivity", good.toString(), "--budget", "4.5", "--method", "ilp", "--out", tmp.resolve("p.yaml").toString());
        assertEquals(1, method.code());
        assertTrue(method.err().contains("choose viditq, knapsack or both"), method.err());
        assertFalse(Files.exists(tmp.resolve("p.yaml")), "nothing written on failure");
    }
}
