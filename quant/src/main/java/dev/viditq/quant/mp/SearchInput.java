package dev.viditq.quant.mp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code ./viditq sensitivity} measured, as the search reads it from {@code sensitivity.json}
 * (docs/MIXED_PRECISION.md): the candidate precisions, the timestep ranges, the layer groups and, for every
 * (group, range, candidate), the loss of that group's own metric against float and the output MSE. Every cell of
 * that table must be present; anything missing or malformed is refused with the JSON path of the problem.
 * This table is where the search (quant) meets the sensitivity runner (eval: it generates with the plans of
 * {@link SensitivityPlans}, scores and writes the file); the search needs nothing else from it.
 *
 * @param source     where it was read from (for messages)
 * @param model      the model folder the sensitivity was measured on, as written
 * @param modelSha256 sha256 of its denoiser checkpoint, or null
 * @param preset     the preset (or config file) whose weight method the bits-only candidates were measured with, or null
 * @param steps      sampling steps of the measured runs
 * @param entries    [group][range][candidate]
 */
public record SearchInput(String source, String model, String modelSha256, String preset, int steps, List<Candidate> candidates,
                          List<Range> ranges, List<Group> groups, Entry[][][] entries) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A candidate the sensitivity measured, e.g. W4A8 or W4A8-gptq-g64 ({@link MethodCandidate} has the syntax).
     *
     * @param spec the parsed candidate (its weight method, when it names one)
     */
    public record Candidate(String name, int weightBits, int activationBits, MethodCandidate spec) {
        /** A bits-only candidate (the preset's weight method). */
        public Candidate(String name, int weightBits, int activationBits) {
            this(name, weightBits, activationBits, new MethodCandidate(name, weightBits, activationBits, null));
        }
    }

    /** Sampling steps [first, end) and the model times they cover. */
    public record Range(int index, int first, int end, double timestepLow, double timestepHigh) {
        public int steps() {
            return end - first;
        }
    }

    /** Layers quantized together (per block: self_attn, temporal_attn, cross_attn, mlp). */
    public record Group(String name, String kind, List<String> layers, long weightParams) {}

    /**
     * One measurement: the group alone at the candidate in the range, everything else float.
     *
     * @param metricDelta loss of the group's own metric against float, positive = worse
     * @param mse         output MSE against float
     */
    public record Entry(String metric, double metricDelta, double mse) {}

    /** Reads {@code sensitivity.json} from a folder, or the file itself. */
    public static SearchInput read(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("sensitivity.json") : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file (give the folder ./viditq sensitivity wrote, "
                    + "or its sensitivity.json)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": should hold one JSON object");
        return parse(root, file.toString());
    }

    /** Parses and checks the sensitivity table. */
    public static SearchInput parse(JsonNode root, String source) {
        Reader r = new Reader(source);
        JsonNode complete = root.get("complete");
        if (complete != null && complete.isBoolean() && !complete.asBoolean()) {
            throw new IllegalArgumentException(source + ": the sensitivity run is not complete (\"complete\": false, "
                    + (root.has("entries") ? root.get("entries").size() : 0) + " entries so far); resume ./viditq sensitivity with the same --out");
        }
        String model = r.text(root, "model");
        JsonNode sha = root.get("model_sha256");
        JsonNode preset = root.get("preset");
        int steps = r.positiveInt(root, "steps");
        List<Candidate> candidates = candidates(r, r.array(root, "candidates"));
        List<Range> ranges = ranges(r, r.array(root, "ranges"), steps);
        List<Group> groups = groups(r, r.array(root, "groups"));
        Entry[][][] entries = entries(r, r.array(root, "entries"), candidates, ranges, groups);
        return new SearchInput(source, model, sha == null || sha.isNull() ? null : sha.asText(),
                preset == null || preset.isNull() ? null : preset.asText(), steps, candidates, ranges, groups, entries);
    }

    /** The candidate's index, or -1. */
    public int candidateIndex(String name) {
        String canonical = MethodCandidate.parse(name).name(); // W4A8-g64-GPTQ names W4A8-gptq-g64
        for (int i = 0; i < candidates.size(); i++) if (candidates.get(i).name().equalsIgnoreCase(canonical)) return i;
        return -1;
    }

    public long totalWeightParams() {
        return groups.stream().mapToLong(Group::weightParams).sum();
    }

    private static List<Candidate> candidates(Reader r, JsonNode arr) {
        List<Candidate> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode c = arr.get(i);
            String where = "candidates[" + i + "]";
            if (!c.isTextual()) throw r.error(where, "should be a candidate name like \"W4A8\" or \"W4A8-gptq-g64\", is " + c);
            Candidate cand;
            try {
                cand = parseCandidate(c.asText());
            } catch (IllegalArgumentException e) {
                throw r.error(where, "\"" + c.asText() + "\" is not a precision candidate: " + e.getMessage());
            }
            if (cand == null) throw r.error(where, "is float, which is no choice of the search");
            if (!seen.add(cand.name())) throw r.error(where, cand.name() + " is listed twice");
            out.add(cand);
        }
        if (out.isEmpty()) throw r.error("candidates", "is empty");
        return List.copyOf(out);
    }

    /**
     * "W4A8" → (4, 8), "W4A8-gptq-g64" → (4, 8) with its method ({@link MethodCandidate#parse}, whose errors it
     * passes on); null for float.
     */
    public static Candidate parseCandidate(String name) {
        MethodCandidate c = MethodCandidate.parse(name);
        if (c.isFloat()) return null;
        return new Candidate(c.name(), c.weightBits(), c.activationBits(), c);
    }

    private static List<Range> ranges(Reader r, JsonNode arr, int steps) {
        List<Range> out = new ArrayList<>();
        int expectFirst = 0;
        for (int i = 0; i < arr.size(); i++) {
            JsonNode n = arr.get(i);
            String where = "ranges[" + i + "]";
            int index = n.has("index") ? r.intAt(n, where + ".index") : i;
            if (index != i) throw r.error(where + ".index", "is " + index + "; ranges must be listed in order 0, 1, ...");
            int[] s = r.pair(n, where + ".steps");
            if (s[0] != expectFirst || s[1] <= s[0]) {
                throw r.error(where + ".steps", "is [" + s[0] + ", " + s[1] + "); ranges must tile the steps in order, this one starting at " + expectFirst);
            }
            expectFirst = s[1];
            double lo = Double.NaN, hi = Double.NaN;
            JsonNode t = n.get("timesteps");
            if (t != null && t.isArray() && t.size() == 2) {
                lo = t.get(0).asDouble();
                hi = t.get(1).asDouble();
            }
            out.add(new Range(i, s[0], s[1], lo, hi));
        }
        if (out.isEmpty()) throw r.error("ranges", "is empty");
        if (expectFirst != steps) throw r.error("ranges", "cover steps [0, " + expectFirst + "), the runs had " + steps);
        return List.copyOf(out);
    }

    private static List<Group> groups(Reader r, JsonNode arr) {
        List<Group> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>(), layers = new LinkedHashSet<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode n = arr.get(i);
            String where = "groups[" + i + "]";
            String name = r.text(n, "name", where);
            if (!names.add(name)) throw r.error(where + ".name", "group '" + name + "' is listed twice");
            String kind = n.has("kind") ? n.get("kind").asText() : "";
            JsonNode ls = r.array(n, "layers", where);
            List<String> list = new ArrayList<>();
            for (int j = 0; j < ls.size(); j++) {
                String l = ls.get(j).asText();
                if (!ls.get(j).isTextual() || l.isEmpty()) throw r.error(where + ".layers[" + j + "]", "should be a layer name");
                if (!layers.add(l)) throw r.error(where + ".layers[" + j + "]", "layer " + l + " is in two groups");
                list.add(l);
            }
            if (list.isEmpty()) throw r.error(where + ".layers", "is empty");
            long params = r.positiveLong(n, "weight_params", where);
            out.add(new Group(name, kind, List.copyOf(list), params));
        }
        if (out.isEmpty()) throw r.error("groups", "is empty");
        return List.copyOf(out);
    }

    private static Entry[][][] entries(Reader r, JsonNode arr, List<Candidate> cands, List<Range> ranges, List<Group> groups) {
        Map<String, Integer> groupIndex = new HashMap<>();
        for (int g = 0; g < groups.size(); g++) groupIndex.put(groups.get(g).name(), g);
        Entry[][][] table = new Entry[groups.size()][ranges.size()][cands.size()];
        for (int i = 0; i < arr.size(); i++) {
            JsonNode n = arr.get(i);
            String where = "entries[" + i + "]";
            String group = r.text(n, "group", where);
            Integer g = groupIndex.get(group);
            if (g == null) throw r.error(where + ".group", "'" + group + "' is not one of the groups");
            int range = r.intAt(n, where + ".range");
            if (range < 0 || range >= ranges.size()) throw r.error(where + ".range", "is " + range + "; there are " + ranges.size() + " ranges");
            String precision = r.text(n, "precision", where);
            Candidate c;
            try {
                c = parseCandidate(precision);
            } catch (IllegalArgumentException e) {
                throw r.error(where + ".precision", e.getMessage());
            }
            int ci = c == null ? -1 : indexOf(cands, c.name());
            if (ci < 0) continue; // e.g. a float row: not a choice of the search
            if (table[g][range][ci] != null) throw r.error(where, "a second entry for " + group + ", range " + range + ", " + c.name());
            String metric = r.text(n, "metric", where);
            table[g][range][ci] = new Entry(metric, r.finite(n, "metric_delta", where), r.finite(n, "mse", where));
        }
        for (int g = 0; g < groups.size(); g++) {
            for (int rg = 0; rg < ranges.size(); rg++) {
                for (int ci = 0; ci < cands.size(); ci++) {
                    if (table[g][rg][ci] == null) {
                        throw r.error("entries", "no entry for group " + groups.get(g).name() + ", range " + rg + ", " + cands.get(ci).name()
                                + " (every group, range and candidate must be measured)");
                    }
                }
            }
        }
        return table;
    }

    private static int indexOf(List<Candidate> cands, String name) {
        for (int i = 0; i < cands.size(); i++) if (cands.get(i).name().equals(name)) return i;
        return -1;
    }

    /** Field access with errors that name the JSON path. */
    private record Reader(String source) {
        IllegalArgumentException error(String path, String problem) {
            return new IllegalArgumentException(source + ": '" + path + "' " + problem);
        }

        JsonNode field(JsonNode n, String key, String where) {
            String path = where.isEmpty() ? key : where + "." + key;
            if (n == null || !n.isObject()) throw error(where.isEmpty() ? key : where, "should be a JSON object");
            JsonNode v = n.get(key);
            if (v == null || v.isNull()) throw error(path, "is missing");
            return v;
        }

        String text(JsonNode n, String key) {
            return text(n, key, "");
        }

        String text(JsonNode n, String key, String where) {
            JsonNode v = field(n, key, where);
            if (!v.isTextual() && !v.isNumber()) throw error(path(where, key), "should be a string, is " + v);
            return v.asText();
        }

        JsonNode array(JsonNode n, String key) {
            return array(n, key, "");
        }

        JsonNode array(JsonNode n, String key, String where) {
            JsonNode v = field(n, key, where);
            if (!v.isArray()) throw error(path(where, key), "should be a list, is " + v.getNodeType().toString().toLowerCase());
            return v;
        }

        int positiveInt(JsonNode n, String key) {
            JsonNode v = field(n, key, "");
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) throw error(key, "should be a positive integer, is " + v);
            return v.asInt();
        }

        long positiveLong(JsonNode n, String key, String where) {
            JsonNode v = field(n, key, where);
            if (!v.isIntegralNumber() || v.asLong() < 1) throw error(path(where, key), "should be a positive integer, is " + v);
            return v.asLong();
        }

        int intAt(JsonNode n, String path) {
            String key = path.substring(path.lastIndexOf('.') + 1);
            JsonNode v = n.get(key);
            if (v == null || !v.isIntegralNumber()) throw error(path, "should be an integer, is " + v);
            return v.asInt();
        }

        int[] pair(JsonNode n, String path) {
            String key = path.substring(path.lastIndexOf('.') + 1);
            JsonNode v = n.get(key);
            if (v == null || !v.isArray() || v.size() != 2 || !v.get(0).isIntegralNumber() || !v.get(1).isIntegralNumber()) {
                throw error(path, "should be [first, end): two step indices, is " + v);
            }
            return new int[]{v.get(0).asInt(), v.get(1).asInt()};
        }

        double finite(JsonNode n, String key, String where) {
            JsonNode v = field(n, key, where);
            if (!v.isNumber() || !Double.isFinite(v.asDouble())) throw error(path(where, key), "should be a finite number, is " + v);
            return v.asDouble();
        }

        private static String path(String where, String key) {
            return where.isEmpty() ? key : where + "." + key;
        }
    }
}
