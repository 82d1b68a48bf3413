package dev.viditq.quant.mp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.plan.BitOverride;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** The two searches on generated sensitivity tables: budgets, optimality, refusals, and the plan they write. */
class SearchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] KINDS = {"self_attn", "cross_attn", "mlp", "temporal_attn"};
    private static final String[] METRICS = {"fidelity", "alignment", "fidelity", "temporal"};
    private static final String[] MODULES = {"attn", "cross_attn", "mlp", "attn_temp"};

    /**
     * A sensitivity.json in the documented schema: {@code blocks} blocks × 4 group kinds, {@code ranges} ranges of 5
     * steps, candidates W4A8/W6A8/W8A8; deltas random but shrinking with bits, as measured ones roughly do.
     */
    static ObjectNode fixture(long seed, int blocks, int ranges) {
        return fixture(seed, blocks, ranges, new String[]{"W4A8", "W6A8", "W8A8"});
    }

    /** The same with other candidates (three, fewest bits first). */
    static ObjectNode fixture(long seed, int blocks, int ranges, String[] candidates) {
        Random rnd = new Random(seed);
        ObjectNode root = JSON.createObjectNode();
        root.put("model", "fixture-model");
        root.put("model_sha256", "00");
        root.put("steps", 5 * ranges);
        ArrayNode cands = root.putArray("candidates");
        for (String c : candidates) cands.add(c);
        ArrayNode rs = root.putArray("ranges");
        for (int r = 0; r < ranges; r++) {
            ObjectNode n = rs.addObject();
            n.put("index", r);
            n.putArray("steps").add(5 * r).add(5 * r + 5);
            n.putArray("timesteps").add(1000 - 250.0 * (r + 1)).add(999 - 250.0 * r);
        }
        ArrayNode groups = root.putArray("groups"), entries = root.putArray("entries");
        for (int b = 0; b < blocks; b++) {
            for (int k = 0; k < KINDS.length; k++) {
                String name = "blocks." + b + "." + MODULES[k];
                ObjectNode g = groups.addObject();
                g.put("name", name);
                g.put("kind", KINDS[k]);
                g.putArray("layers").add(name + ".a").add(name + ".b");
                g.put("weight_params", params(k));
                for (int r = 0; r < ranges; r++) {
                    double base = rnd.nextDouble() * (k == 1 ? 0.05 : 0.3);
                    double[] frac = {1, 0.2 + 0.3 * rnd.nextDouble(), 0.02 * rnd.nextDouble()};
                    for (int c = 0; c < 3; c++) {
                        ObjectNode e = entries.addObject();
                        e.put("group", name);
                        e.put("range", r);
                        e.put("precision", candidates[c]);
                        e.put("metric", METRICS[k]);
                        e.put("metric_delta", base * frac[c]);
                        e.put("mse", base * frac[c] * 1e-3 * (1 + rnd.nextDouble()));
                    }
                }
            }
        }
        return root;
    }

    /** Two layers per group: [out, in] = [2·16·(k+1), 16] and [16, 16·(k+1)]... kept simple: params of both. */
    private static long params(int kind) {
        return shapeA(kind)[0] * (long) shapeA(kind)[1] + shapeB(kind)[0] * (long) shapeB(kind)[1];
    }

    private static int[] shapeA(int kind) {
        return new int[]{32 * (kind + 1), 16};
    }

    private static int[] shapeB(int kind) {
        return new int[]{16, 16 * (kind + 1)};
    }

    private static SearchStorage storage(SearchInput in) {
        Map<String, int[]> shapes = new HashMap<>();
        for (SearchInput.Group g : in.groups()) {
            int k = List.of(KINDS).indexOf(g.kind());
            shapes.put(g.layers().get(0), shapeA(k));
            shapes.put(g.layers().get(1), shapeB(k));
        }
        return new SearchStorage(shapes, new QuantConfig.WeightSpec(4, false, QuantConfig.WeightGranularity.CHANNEL, 0));
    }

    private static SearchProblem problem(long seed, int blocks, int ranges, String budget) {
        SearchInput in = SearchInput.parse(fixture(seed, blocks, ranges), "fixture");
        return new SearchProblem(in, null, SearchBudget.parse(budget), storage(in), 0);
    }

    @ParameterizedTest
    @CsvSource({"1, 4.2", "2, 4.5", "3, 5.0", "4, 6.5", "5, 8", "6, 1MiB", "7, 30KiB", "8, 24000B"})
    void bothSearchesRespectTheBudgetAndTheExactOneIsNeverWorse(long seed, String budget) {
        SearchProblem p = problem(seed, 3, 4, budget);
        SearchAllocation greedy = SearchGreedy.solve(p), exact = SearchKnapsack.solve(p);
        for (SearchAllocation a : List.of(greedy, exact)) {
            assertTrue(a.cost() <= p.budgetUnits(), a.method() + " costs " + a.cost() + " > " + p.budgetUnits());
            if (p.budget().kind() == SearchBudget.Kind.BITS) assertTrue(a.averageWeightBits() <= p.budget().value() + 1e-12);
            else assertTrue(a.storedBytes() <= p.budget().value());
        }
        assertTrue(exact.predictedLoss() <= greedy.predictedLoss() + 1e-12,
                "exact " + exact.predictedLoss() + " > greedy " + greedy.predictedLoss());
    }

    @Test
    void generousBudgetsBuyEverythingAndTightOnesBuyNothing() {
        SearchProblem all = problem(11, 2, 4, "8");
        for (SearchAllocation a : List.of(SearchGreedy.solve(all), SearchKnapsack.solve(all))) {
            assertEquals(8.0, a.averageWeightBits(), 1e-12, a.method());
        }
        SearchProblem none = problem(11, 2, 4, "4");
        for (SearchAllocation a : List.of(SearchGreedy.solve(none), SearchKnapsack.solve(none))) {
            assertEquals(4.0, a.averageWeightBits(), 1e-12, a.method());
        }
    }

    /** On problems small enough to enumerate, the knapsack finds the true optimum (bits and bytes). */
    @ParameterizedTest
    @CsvSource({"21, 4.6", "22, 5.3", "23, 6.1", "24, 7KiB", "25, 12KiB"})
    void knapsackMatchesBruteForce(long seed, String budget) {
        SearchInput in = SearchInput.parse(fixture(seed, 1, 2), "fixture"); // 4 groups × 2 ranges: 3^8 allocations
        SearchProblem p = new SearchProblem(in, null, SearchBudget.parse(budget), storage(in), 0.5);
        double best = Double.POSITIVE_INFINITY;
        for (int[][] choice : everyChoice(p, 3)) {
            SearchAllocation a = SearchAllocation.of("brute", p, choice);
            if (a.cost() <= p.budgetUnits()) best = Math.min(best, a.predictedLoss());
        }
        assertEquals(best, SearchKnapsack.solve(p).predictedLoss(), 1e-9);
    }

    /** A bit budget with a byte cap: both limits hold, the knapsack is still the true optimum (brute force). */
    @ParameterizedTest
    @CsvSource({"41, 5.5, 9KiB", "42, 6.5, 10KiB", "43, 8, 8KiB"})
    void byteCapWithABitBudget(long seed, String bits, String cap) {
        SearchInput in = SearchInput.parse(fixture(seed, 1, 2), "fixture");
        SearchProblem p = new SearchProblem(in, null, SearchBudget.parse(bits), storage(in), 0).withByteCap(SearchBudget.parse(cap));
        double best = Double.POSITIVE_INFINITY;
        boolean capBinds = false;
        for (int[][] choice : everyChoice(p, 3)) {
            SearchAllocation a = SearchAllocation.of("brute", p, choice);
            if (a.cost() <= p.budgetUnits() && a.storedBytes() > p.byteCap()) capBinds = true;
            if (a.cost() <= p.budgetUnits() && a.storedBytes() <= p.byteCap()) best = Math.min(best, a.predictedLoss());
        }
        assertTrue(capBinds, "the cap should exclude some allocations the bit budget allows");
        SearchAllocation exact = SearchKnapsack.solve(p), greedy = SearchGreedy.solve(p);
        assertEquals(best, exact.predictedLoss(), 1e-9);
        for (SearchAllocation a : List.of(exact, greedy)) {
            assertTrue(a.storedBytes() <= p.byteCap() && a.cost() <= p.budgetUnits(), a.method());
        }
        assertTrue(exact.predictedLoss() <= greedy.predictedLoss() + 1e-12);
        SearchProblem tight = new SearchProblem(in, null, SearchBudget.parse(bits), storage(in), 0).withByteCap(SearchBudget.parse("100B"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SearchKnapsack.solve(tight));
        assertTrue(e.getMessage().contains("--max-bytes 100 is infeasible: the minimum is 5760 stored weight bytes"), e.getMessage());
    }

    /** One precision per group: every group uniform over its ranges, limits kept, exact = brute force over uniform plans. */
    @ParameterizedTest
    @CsvSource({"51, 4.5", "52, 5.5", "53, 20KiB"})
    void samePrecisionForAllRanges(long seed, String budget) {
        SearchInput in = SearchInput.parse(fixture(seed, 2, 4), "fixture");
        SearchProblem p = new SearchProblem(in, null, SearchBudget.parse(budget), storage(in), 0).withSameForAllRanges(true);
        SearchAllocation exact = SearchKnapsack.solve(p), greedy = SearchGreedy.solve(p);
        for (SearchAllocation a : List.of(exact, greedy)) {
            for (int[] row : a.choice()) assertEquals(1, java.util.Arrays.stream(row).distinct().count(), a.method());
            assertTrue(a.cost() <= p.budgetUnits(), a.method());
            assertEquals(0, a.layersWithTwoOrMoreWidths());
        }
        assertTrue(exact.predictedLoss() <= greedy.predictedLoss() + 1e-12);
        double best = Double.POSITIVE_INFINITY;
        for (int code = 0; code < Math.pow(3, p.groups()); code++) {
            int[][] choice = new int[p.groups()][p.ranges()];
            int v = code;
            for (int g = 0; g < p.groups(); g++, v /= 3) java.util.Arrays.fill(choice[g], v % 3);
            SearchAllocation a = SearchAllocation.of("brute", p, choice);
            if (a.cost() <= p.budgetUnits()) best = Math.min(best, a.predictedLoss());
        }
        assertEquals(best, exact.predictedLoss(), 1e-9);
    }

    @Test
    void anInfeasibleBudgetNamesTheMinimum() {
        SearchProblem bits = problem(1, 2, 4, "3.5");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SearchKnapsack.solve(bits));
        assertTrue(e.getMessage().contains("infeasible: the minimum is 4.000 average weight bits (every group at W4A8)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SearchGreedy.solve(bits));
        SearchProblem bytes = problem(1, 2, 4, "1000B");
        e = assertThrows(IllegalArgumentException.class, () -> SearchGreedy.solve(bytes));
        assertTrue(e.getMessage().matches(".*infeasible: the minimum is \\d+ stored weight bytes.*"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "4.5|BITS|4.5", "3.5MiB|BYTES|3670016", "3600000B|BYTES|3600000", "2kb|BYTES|2000"})
    void budgets(String text, String kind, double value) {
        SearchBudget b = SearchBudget.parse(text);
        assertEquals(SearchBudget.Kind.valueOf(kind), b.kind());
        assertEquals(value, b.value(), 1e-9);
    }

    @Test
    void badBudgetsAreRefused() {
        for (String bad : new String[]{"300000", "1.5", "4.5 bits", "MiB", "-3MiB"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SearchBudget.parse(bad), bad);
            assertTrue(e.getMessage().contains("give average weight bits between 2 and 8"), e.getMessage());
        }
    }

    /** Each broken table → the message fragment naming the problem (data-driven). */
    @Test
    void malformedSensitivityIsRefusedWithThePathOfTheProblem() {
        Map<String, Consumer<ObjectNode>> cases = new java.util.LinkedHashMap<>();
        cases.put("'entries' is missing", n -> n.remove("entries"));
        cases.put("'candidates[1]' \"W9A8\" is not a precision", n -> ((ArrayNode) n.get("candidates")).set(1, "W9A8"));
        cases.put("no entry for group blocks.0.attn, range 1, W6A8", n -> removeEntry(n, "blocks.0.attn", 1, "W6A8"));
        cases.put("'entries[0].group' 'nope' is not one of the groups", n -> ((ObjectNode) n.get("entries").get(0)).put("group", "nope"));
        cases.put("'entries[2].metric_delta' should be a finite number", n -> ((ObjectNode) n.get("entries").get(2)).put("metric_delta", "x"));
        cases.put("'ranges[1].steps' is [6, 10); ranges must tile", n -> ((ArrayNode) n.get("ranges").get(1).get("steps")).set(0, 6));
        cases.put("'ranges' cover steps [0, 20), the runs had 25", n -> n.put("steps", 25));
        cases.put("layer blocks.0.attn.a is in two groups", n -> ((ArrayNode) n.get("groups").get(1).get("layers")).set(0, "blocks.0.attn.a"));
        cases.put("'groups[0].weight_params' should be a positive integer", n -> ((ObjectNode) n.get("groups").get(0)).put("weight_params", 0));
        cases.put("the sensitivity run is not complete", n -> n.put("complete", false));
        cases.forEach((expected, breakIt) -> {
            ObjectNode n = fixture(3, 2, 4);
            breakIt.accept(n);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SearchInput.parse(n, "s.json"), expected);
            assertTrue(e.getMessage().startsWith("s.json: ") && e.getMessage().contains(expected), "expected '" + expected + "', got: " + e.getMessage());
        });
    }

    private static void removeEntry(ObjectNode n, String group, int range, String precision) {
        ArrayNode es = (ArrayNode) n.get("entries");
        for (int i = 0; i < es.size(); i++) {
            var e = es.get(i);
            if (e.get("group").asText().equals(group) && e.get("range").asInt() == range && e.get("precision").asText().equals(precision)) {
                es.remove(i);
                return;
            }
        }
        fail("no such entry");
    }

    @Test
    void notJsonAndMissingFilesAreRefused(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("sensitivity.json");
        Files.writeString(f, "{\"model\": \"m\", \"steps\": 20,");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SearchInput.read(tmp));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SearchInput.read(tmp.resolve("nothing")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    /**
     * The written plan, read back by the config reader and applied as the runtime applies bit maps: every layer runs
     * the allocated precision at every step, and stores exactly the bit widths its group uses (the byte count the
     * search reported is what the runtime will hold).
     */
    @ParameterizedTest
    @CsvSource({"31, 4.5, W4A8 W6A8 W8A8,", "32, 5.5, W4A8 W6A8 W8A8,", "33, 40KiB, W4A8 W6A8 W8A8,",
            "34, 4.5, W4A6 W6A6 W8A8,", "35, 5.5, W4A4 W8A4 W8A8,", "36, 4.5, W4A8 W6A8 W8A8, 6", "37, 5.2, W4A8 W6A8 W8A8, 4"})
    void thePlanRunsTheAllocationAndStoresExactlyItsWidths(long seed, String budget, String candidates, Integer lowActivationBits) {
        SearchInput in = SearchInput.parse(fixture(seed, 3, 4, candidates.split(" ")), "fixture");
        SearchProblem p = new SearchProblem(in, null, SearchBudget.parse(budget), storage(in), 0);
        SearchAllocation a = SearchKnapsack.solve(p);
        String yaml = SearchPlanWriter.yaml(p, a, new SearchPlanWriter.Header("test", "viditq-w4a8", null, null, lowActivationBits));
        assertTrue(yaml.contains("# Stored quantized weights: " + a.storedBytes() + " bytes"), yaml);
        QuantConfig cfg = QuantConfigReader.parse(yaml, "plan", null);
        Precision base = new Precision(cfg.weight().bits(), cfg.activation().bits());
        long bytes = 0;
        for (int g = 0; g < p.groups(); g++) {
            for (String layer : p.input().groups().get(g).layers()) {
                List<BitOverride> overrides = new ArrayList<>();
                for (QuantConfig.BitRule r : cfg.bitMap()) {
                    if (r.layers().matches(layer)) overrides.add(new BitOverride(r.weightBits(), r.activationBits(), r.keepFloat(), r.steps(), r.timesteps()));
                }
                LayerPlan lp = new LayerPlan(layer, 16, 16, null, null, base, overrides, null);
                Set<Integer> widths = new TreeSet<>();
                for (SearchInput.Range r : p.input().ranges()) {
                    int k = a.choice()[g][r.index()];
                    SearchInput.Candidate want = p.candidate(k);
                    if (k == 0 && lowActivationBits != null) want = new SearchInput.Candidate("low", want.weightBits(), lowActivationBits);
                    widths.add(want.weightBits());
                    for (int s = r.first(); s < r.end(); s++) {
                        Precision got = lp.precisionAt(s, 500);
                        assertEquals(new Precision(want.weightBits(), want.activationBits()), got, layer + " step " + s);
                    }
                }
                assertEquals(widths, new TreeSet<>(lp.weightBits()), layer + ": stored widths");
                for (int w : lp.weightBits()) bytes += p.storage().bytes(layer, w);
            }
        }
        assertEquals(a.storedBytes(), bytes);
    }

    /**
     * Candidates that differ in method: costs are stored bytes (grouped scales and low-rank factors counted), a bit
     * budget is stored bits per weight, a group never mixes two methods over its ranges, the knapsack is the optimum
     * over the allocations that can be stored (brute force), and the plan's layer_methods give each layer the method
     * of its group.
     */
    @ParameterizedTest
    @CsvSource({"41, 6.6, W4A8 W4A8-gptq-g16 W8A8", "42, 7.4, W4A8 W4A8-lr4-gptq W8A8", "43, 9KiB, W4A8-rtn W4A8-gptq-g16 W8A8",
            "44, 7.0, W4A8-gptq W4A8-lr4-gptq-g16 W8A8"})
    void methodCandidatesCostStoredBytesAndKeepOneMethodPerGroup(long seed, String budget, String candidates) {
        SearchInput in = SearchInput.parse(fixture(seed, 1, 2, candidates.split(" ")), "fixture");
        SearchProblem p = new SearchProblem(in, null, SearchBudget.parse(budget), storage(in), 0);
        assertTrue(p.methodSearch() && p.costsBytes());
        long limit = p.budget().kind() == SearchBudget.Kind.BYTES ? (long) p.budget().value()
                : (long) Math.floor(p.budget().value() * in.totalWeightParams() / 8);
        assertEquals(limit, p.budgetUnits(), "a bit budget over methods is stored bits per weight");
        double best = Double.POSITIVE_INFINITY;
        for (int[][] choice : everyChoice(p, 3)) {
            boolean storable = true;
            for (int[] c : choice) storable &= p.storable(c);
            SearchAllocation a = SearchAllocation.of("brute", p, choice);
            if (storable && a.cost() <= p.budgetUnits()) best = Math.min(best, a.predictedLoss());
        }
        SearchAllocation exact = SearchKnapsack.solve(p), greedy = SearchGreedy.solve(p);
        assertEquals(best, exact.predictedLoss(), 1e-9);
        for (SearchAllocation a : List.of(exact, greedy)) {
            assertTrue(a.storedBytes() <= limit, a.method() + ": " + a.storedBytes() + " > " + limit);
            assertEquals(a.storedBytes(), a.cost());
            for (int[] c : a.choice()) assertTrue(p.storable(c), a.method() + " mixes methods in a group: " + java.util.Arrays.toString(c));
        }
        assertTrue(exact.predictedLoss() <= greedy.predictedLoss() + 1e-12);

        String yaml = SearchPlanWriter.yaml(p, exact, new SearchPlanWriter.Header("test", "viditq-w4a8", null, null));
        QuantConfig cfg = QuantConfigReader.parse(yaml, "plan", null);
        long bytes = 0;
        for (int gi = 0; gi < p.groups(); gi++) {
            MethodCandidate.WeightMethod want = p.method(exact.choice()[gi][0]);
            for (String layer : in.groups().get(gi).layers()) {
                int group = cfg.weight().granularity() == QuantConfig.WeightGranularity.GROUP ? cfg.weight().groupSize() : 0;
                QuantConfig.Gptq gptq = cfg.gptq();
                int rank = cfg.lowRank() == null ? 0 : cfg.lowRank().rank();
                for (QuantConfig.MethodRule rule : cfg.layerMethods()) {
                    if (!rule.layers().matches(layer)) continue;
                    if (rule.groupSize() != null) group = rule.groupSize();
                    if (rule.gptq() != null) gptq = rule.gptqOff() ? null : rule.gptq();
                    if (rule.lowRank() != null) rank = rule.lowRank();
                }
                assertEquals(want, new MethodCandidate.WeightMethod(group, gptq, rank), layer + "\n" + yaml);
                Set<Integer> widths = new TreeSet<>();
                for (int k : exact.choice()[gi]) widths.add(p.candidate(k).weightBits());
                for (int w : widths) bytes += p.storage().bytes(layer, w, group);
                bytes += p.storage().branchBytes(layer, rank);
            }
        }
        assertEquals(exact.storedBytes(), bytes, "the plan stores what the search counted");
    }

    @Test
    void aGroupedPresetGivesW8ItsOwnPerChannelMethod() {
        SearchInput in = SearchInput.parse(fixture(51, 1, 1, new String[]{"W4A8", "W6A8", "W8A8"}), "fixture");
        SearchProblem p = new SearchProblem(in, null, SearchBudget.parse("8"), storage(in), 0, QuantConfigReader.preset("viditq-gptq-w4a8-g128"));
        SearchAllocation a = SearchKnapsack.solve(p);
        String yaml = SearchPlanWriter.yaml(p, a, new SearchPlanWriter.Header("test", "viditq-gptq-w4a8-g128", null, null));
        assertTrue(yaml.contains("layer_methods:") && yaml.contains("granularity: channel"), yaml);
        QuantConfigReader.parse(yaml, "plan", null);
    }

    /** Every allocation of {@code options} candidates to each (group, range) cell of {@code p}: the brute force. */
    private static List<int[][]> everyChoice(SearchProblem p, int options) {
        int g = p.groups(), r = p.ranges(), cells = g * r;
        List<int[][]> out = new ArrayList<>();
        for (int code = 0; code < Math.pow(options, cells); code++) {
            int[][] choice = new int[g][r];
            int v = code;
            for (int i = 0; i < cells; i++, v /= options) choice[i / r][i % r] = v % options;
            out.add(choice);
        }
        return out;
    }
}
