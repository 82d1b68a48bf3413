package dev.viditq.eval.mp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.quant.config.QuantConfigReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The layer groups a sensitivity run quantizes one at a time: by default one per transformer block and attention /
 * MLP module (ViDiT-Q-MP's spatial attention, temporal attention, cross-attention and MLP), or as a YAML file maps
 * group names to regexes over Linear names. Only the Linears the method quantizes are grouped.
 */
public final class SensitivityGroups {
    /** What a group is responsible for, which decides the metric it is judged by. */
    public enum Kind {
        SELF_ATTN("self_attn", "fidelity"), TEMPORAL_ATTN("temporal_attn", "temporal"),
        CROSS_ATTN("cross_attn", "alignment"), MLP("mlp", "fidelity");

        private final String id;
        private final String metric;

        Kind(String id, String metric) {
            this.id = id;
            this.metric = metric;
        }

        public String id() { return id; }

        /** The metric this kind of group is judged by: alignment, temporal or fidelity. */
        public String metric() { return metric; }

        public static Kind of(String id, String where) {
            for (Kind k : values()) if (k.id.equals(id)) return k;
            throw new IllegalArgumentException(where + ": kind '" + id + "' is not one of self_attn, temporal_attn, cross_attn, mlp");
        }
    }

    /**
     * @param block the transformer block index, or -1 when the layers are not of one block
     * @param layers Linear names in model order
     */
    public record Group(String name, Kind kind, int block, List<String> layers, long weightParams) {
        public Group {
            layers = List.copyOf(layers);
        }
    }

    /** A block Linear's name: block prefix (with index), module, rest. */
    private static final Pattern BLOCK_LAYER = Pattern.compile(
            "((?:transformer_blocks|blocks|spatial_blocks|temporal_blocks|temporal_transformer_blocks)\\.(\\d+))\\.([A-Za-z0-9_]+)\\..+");

    private SensitivityGroups() {}

    /**
     * Groups the quantized layers.
     *
     * @param spec       "block-kind" or a YAML file
     * @param quantized  the quantized Linears' names, in model order
     * @param shapes     name → {out, in} for every quantized Linear
     */
    public static List<Group> resolve(String spec, List<String> quantized, Map<String, int[]> shapes) {
        if (spec == null || spec.equals("block-kind")) return byBlockAndKind(quantized, shapes);
        Path file = Path.of(spec);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--groups " + spec + ": neither 'block-kind' nor a YAML file that exists");
        }
        return fromFile(file, quantized, shapes);
    }

    /** The kind and group (block prefix + module) of a block Linear by its name; null when the name says neither. */
    static String[] classify(String layer) {
        Matcher m = BLOCK_LAYER.matcher(layer);
        if (!m.matches()) return null;
        String prefix = m.group(1), module = m.group(3);
        boolean temporalBlock = prefix.startsWith("temporal_");
        Kind kind = switch (module) {
            case "attn_temp" -> Kind.TEMPORAL_ATTN;
            case "attn", "attn1" -> temporalBlock ? Kind.TEMPORAL_ATTN : Kind.SELF_ATTN;
            case "cross_attn", "attn2" -> Kind.CROSS_ATTN;
            case "mlp", "ff", "ffn" -> Kind.MLP; // ffn: Wan's feed-forward
            default -> null;
        };
        if (kind == null) return null;
        return new String[]{prefix + "." + module, kind.id(), m.group(2)};
    }

    private static List<Group> byBlockAndKind(List<String> quantized, Map<String, int[]> shapes) {
        Map<String, List<String>> members = new LinkedHashMap<>();
        Map<String, String[]> info = new LinkedHashMap<>();
        for (String layer : quantized) {
            String[] c = classify(layer);
            if (c == null) {
                throw new IllegalArgumentException("layer " + layer + " is quantized but not a block's self-, temporal or cross-attention "
                        + "or MLP Linear; give the grouping as a YAML file (--groups FILE, docs/MIXED_PRECISION.md)");
            }
            members.computeIfAbsent(c[0], k -> new ArrayList<>()).add(layer);
            info.putIfAbsent(c[0], c);
        }
        List<Group> out = new ArrayList<>();
        members.forEach((name, layers) -> {
            String[] c = info.get(name);
            out.add(new Group(name, Kind.of(c[1], name), Integer.parseInt(c[2]), layers, params(layers, shapes)));
        });
        return List.copyOf(out);
    }

    /** name: regex | [regexes] | {kind: K, layers: regex | [regexes]}. */
    private static List<Group> fromFile(Path file, List<String> quantized, Map<String, int[]> shapes) {
        JsonNode root;
        try {
            root = QuantConfigReader.YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw new IllegalArgumentException(file + ": should be a mapping of group name to regexes over layer names");
        }
        List<Group> out = new ArrayList<>();
        Set<String> taken = new LinkedHashSet<>();
        for (var names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next(), where = file + ": group '" + name + "'";
            JsonNode value = root.get(name);
            JsonNode patterns = value.isObject() ? value.get("layers") : value;
            if (value.isObject()) {
                for (var keys = value.fieldNames(); keys.hasNext(); ) {
                    String k = keys.next();
                    if (!k.equals("kind") && !k.equals("layers")) throw new IllegalArgumentException(where + ": unknown key '" + k + "' (kind, layers)");
                }
            }
            List<String> layers = match(patterns, quantized, where);
            for (String l : layers) {
                if (!taken.add(l)) throw new IllegalArgumentException(where + ": layer " + l + " is already in another group");
            }
            Kind kind = value.isObject() && value.hasNonNull("kind") ? Kind.of(value.get("kind").asText(), where) : inferKind(layers, where);
            String[] first = classify(layers.getFirst());
            int block = first == null ? -1 : Integer.parseInt(first[2]);
            for (String l : layers) {
                String[] c = classify(l);
                if (c == null || Integer.parseInt(c[2]) != block) block = -1;
            }
            out.add(new Group(name, kind, block, layers, params(layers, shapes)));
        }
        return List.copyOf(out);
    }

    private static List<String> match(JsonNode patterns, List<String> quantized, String where) {
        List<String> regexes = new ArrayList<>();
        if (patterns != null && patterns.isTextual()) regexes.add(patterns.asText());
        else if (patterns != null && patterns.isArray()) patterns.forEach(p -> regexes.add(p.asText()));
        if (regexes.isEmpty()) throw new IllegalArgumentException(where + ": give a regex or a list of regexes over layer names");
        Set<String> layers = new LinkedHashSet<>();
        for (String r : regexes) {
            Pattern p;
            try {
                p = Pattern.compile(r);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(where + ": invalid regex '" + r + "': " + e.getDescription());
            }
            List<String> hits = quantized.stream().filter(n -> p.matcher(n).matches()).toList();
            if (hits.isEmpty()) {
                throw new IllegalArgumentException(where + ": regex '" + r + "' matches no quantized layer; they are named like "
                        + String.join(", ", quantized.subList(0, Math.min(4, quantized.size()))) + ", ...");
            }
            layers.addAll(hits);
        }
        // model order, whatever the order of the regexes
        return quantized.stream().filter(layers::contains).toList();
    }

    private static Kind inferKind(List<String> layers, String where) {
        Kind kind = null;
        for (String l : layers) {
            String[] c = classify(l);
            Kind k = c == null ? null : Kind.of(c[1], where);
            if (k == null || (kind != null && k != kind)) {
                throw new IllegalArgumentException(where + ": cannot tell its kind from the layer names (" + l + "); write "
                        + "{kind: self_attn|temporal_attn|cross_attn|mlp, layers: [...]}");
            }
            kind = k;
        }
        return kind;
    }

    private static long params(List<String> layers, Map<String, int[]> shapes) {
        long p = 0;
        for (String l : layers) p += (long) shapes.get(l)[0] * shapes.get(l)[1];
        return p;
    }
}
