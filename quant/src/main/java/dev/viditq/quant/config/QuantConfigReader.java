package dev.viditq.quant.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.viditq.quant.config.QuantConfig.ActivationGranularity;
import dev.viditq.quant.config.QuantConfig.ActivationSpec;
import dev.viditq.quant.config.QuantConfig.Balancing;
import dev.viditq.quant.config.QuantConfig.BitRule;
import dev.viditq.quant.config.QuantConfig.Method;
import dev.viditq.quant.config.QuantConfig.Rotation;
import dev.viditq.quant.config.QuantConfig.WeightGranularity;
import dev.viditq.quant.config.QuantConfig.WeightSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads quantization configs (docs/QUANT_CONFIG.md): this project's schema ({@code method}, {@code weight},
 * {@code activation}, {@code balancing}, {@code rotation}, {@code keep_float}, {@code bit_map}) and the keys of
 * ViDiT-Q's released YAML files where they map ({@code quant.weight.quantizer.n_bits}, {@code per_group},
 * {@code quant.activation.quantizer.dynamic}, {@code smooth_quant.alpha}, {@code part_fp_list}, ...). A config may
 * start from a preset ({@code preset: viditq-w4a8}) and override some keys. Unknown keys, bits out of range and
 * settings the integer kernels cannot run are refused with the key's full path.
 */
public final class QuantConfigReader {
    /** A key given twice in one mapping is an error, not the last value silently winning. */
    public static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    /** Most lines a part_fp_list file may hold (the released lists have a few dozen module names). */
    private static final int MAX_NAME_LIST_LINES = 100_000;
    private static final java.util.regex.Pattern MODULE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.\\-]{1,256}");
    /** Reference keys that are understood but change nothing here (training-time or Python-side settings). */
    private static final List<String> REFERENCE_IGNORED = List.of("model", "conditional", "mixed_precision", "calib_data",
            "resume_with_w_quantized");

    private final String source;
    private final Path baseDir;
    private final List<String> notes = new ArrayList<>();

    private QuantConfigReader(String source, Path baseDir) {
        this.source = source;
        this.baseDir = baseDir;
    }

    /** A YAML file; files it names (part_fp_list) must lie in its folder or below (see {@link #resolve}). */
    public static QuantConfig read(Path file) {
        if (!Files.isRegularFile(file)) throw new QuantConfigException(file + ": no such config file");
        try {
            return parse(Files.readString(file), file.toString(), file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new QuantConfigException(file + ": cannot read: " + e.getMessage());
        }
    }

    /** A bundled preset ({@link Presets#NAMES}) as a config. */
    public static QuantConfig preset(String name) {
        return parse(Presets.text(name), "preset " + name, null);
    }

    /** YAML text; {@code source} names it in errors, {@code baseDir} (may be null) resolves relative paths. */
    public static QuantConfig parse(String yaml, String source, Path baseDir) {
        JsonNode tree;
        try {
            tree = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new QuantConfigException(source + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) throw new QuantConfigException(source + ": the config is empty");
        if (!tree.isObject()) throw new QuantConfigException(source + ": the config should be a mapping of keys, is " + tree);
        tree = withPreset((ObjectNode) tree, source);
        return new QuantConfigReader(source, baseDir).config(new ConfigNode(tree, "", source));
    }

    /** {@code preset: NAME} → the preset's keys, overridden by the file's own. */
    private static JsonNode withPreset(ObjectNode tree, String source) {
        JsonNode preset = tree.get("preset");
        if (preset == null) return tree;
        if (!preset.isTextual()) throw new QuantConfigException(source + ": 'preset' should be a preset name, is " + preset);
        ObjectNode merged;
        try {
            merged = (ObjectNode) YAML.readTree(Presets.text(preset.asText()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("preset " + preset.asText() + " is not valid YAML", e);
        }
        tree.remove("preset");
        merge(merged, tree);
        return merged;
    }

    private static void merge(ObjectNode base, ObjectNode over) {
        over.properties().forEach(e -> {
            JsonNode old = base.get(e.getKey());
            if (old instanceof ObjectNode o && e.getValue() instanceof ObjectNode n) merge(o, n);
            else base.set(e.getKey(), e.getValue());
        });
    }

    private QuantConfig config(ConfigNode root) {
        boolean reference = root.has("quant");
        if (reference && (root.has("weight") || root.has("activation"))) {
            throw new QuantConfigException(source + ": give either 'quant' (ViDiT-Q's layout) or 'weight'/'activation', not both");
        }
        String methodName = root.text("method");
        WeightSpec weight;
        ActivationSpec activation;
        Balancing balancing = null;
        if (reference) {
            ConfigNode quant = root.child("quant");
            weight = referenceWeight(quant.child("weight"));
            ReferenceActivation ra = referenceActivation(quant.child("activation"), root);
            activation = ra.spec;
            balancing = ra.balancing;
            if (quant.raw("grad_checkpoint") != null) notes.add("quant.grad_checkpoint ignored (no training here)");
            quant.finish();
        } else {
            weight = weight(root.child("weight"));
            activation = activation(root.child("activation"));
        }
        activation = applyTopLevelActivationKeys(root, activation);
        if (root.has("balancing")) {
            if (balancing != null) throw new QuantConfigException(source + ": give balancing either as 'balancing' or as quant.activation.quantizer.smooth_quant, not both");
            balancing = balancing(root, "balancing");
        } else {
            root.raw("balancing"); // known, absent
        }
        Method method = methodName != null ? method(methodName)
                : reference ? inferMethod(activation, balancing) : null;
        if (method == null) {
            throw new QuantConfigException(source + ": 'method' is missing (naive, smoothquant, quarot or viditq), "
                    + "or start from a preset with 'preset: NAME' (" + String.join(", ", Presets.NAMES) + ")");
        }
        Rotation rotation = rotation(root, method, balancing);
        balancing = methodBalancing(method, balancing);
        List<LayerPattern> keepFloat = keepFloat(root);
        boolean defaults = root.bool("keep_float_defaults", true);
        List<BitRule> bitMap = bitMap(root);
        QuantConfig.Gptq gptq = gptq(root, weight);
        QuantConfig.LowRank lowRank = lowRank(root);
        List<QuantConfig.MethodRule> layerMethods = layerMethods(root, gptq);
        boolean sharedInputs = root.bool("shared_inputs", true);
        for (String key : REFERENCE_IGNORED) {
            if (root.raw(key) != null) notes.add("'" + key + "' ignored (a setting of the Python reference code)");
        }
        root.finish();
        QuantConfig cfg = new QuantConfig(method, weight, activation, balancing, rotation, keepFloat, defaults, bitMap,
                source, notes, gptq, lowRank, layerMethods, sharedInputs);
        checkCombination(cfg);
        return cfg;
    }

    // ---------------------------------------------------------------- this project's schema

    private WeightSpec weight(ConfigNode n) {
        int bits = bits(n, "bits", 8);
        boolean symmetric = n.bool("symmetric", false);
        WeightGranularity g = enumValue(n, "granularity", WeightGranularity.class, WeightGranularity.CHANNEL);
        int groupSize = n.integer("group_size", 0);
        QuantConfig.ScaleType scaleType = enumValue(n, "scale_dtype", QuantConfig.ScaleType.class, QuantConfig.ScaleType.F32);
        n.finish();
        return weightSpec(n, bits, symmetric, g, groupSize, scaleType);
    }

    private WeightSpec weightSpec(ConfigNode n, int bits, boolean symmetric, WeightGranularity g, int groupSize,
                                  QuantConfig.ScaleType scaleType) {
        if (g == WeightGranularity.GROUP) {
            if (groupSize <= 0 || groupSize % 8 != 0) {
                throw n.errorAt("group_size", "must be a positive multiple of 8 with granularity group, is " + groupSize);
            }
            if (bits > 4) {
                throw n.errorAt("granularity", "group needs weights of at most 4 bits (the int4 kernel has per-group "
                        + "scales, the int8 kernel one scale per output channel); bits is " + bits);
            }
        }
        return new WeightSpec(bits, symmetric, g, g == WeightGranularity.GROUP ? groupSize : 0, scaleType);
    }

    private ActivationSpec activation(ConfigNode n) {
        int bits = bits(n, "bits", 8);
        ActivationGranularity g = enumValue(n, "granularity", ActivationGranularity.class, ActivationGranularity.TOKEN);
        boolean dynamic = n.bool("dynamic", g == ActivationGranularity.TOKEN);
        boolean perTimestep = n.bool("per_timestep", false);
        boolean cfgSplit = n.bool("cfg_split", false);
        Boolean symmetric = n.bool("symmetric");
        if (symmetric != null && !symmetric) {
            throw n.errorAt("symmetric", "cannot be false: activations are quantized symmetrically (the integer kernels take no activation zero point)");
        }
        n.finish();
        return activationSpec(n, bits, g, dynamic, perTimestep, cfgSplit);
    }

    private ActivationSpec activationSpec(ConfigNode n, int bits, ActivationGranularity g, boolean dynamic,
                                          boolean perTimestep, boolean cfgSplit) {
        if (g == ActivationGranularity.TOKEN && !dynamic) {
            throw n.error("'" + n.path() + "'", "asks for static per-token ranges, which cannot exist (tokens differ per input); "
                    + "use granularity token with dynamic: true, or granularity tensor");
        }
        return new ActivationSpec(bits, g, dynamic, perTimestep, cfgSplit);
    }

    private ActivationSpec applyTopLevelActivationKeys(ConfigNode root, ActivationSpec a) {
        Boolean cfgSplit = root.bool("cfg_split");
        Boolean timestepWise = root.bool("timestep_wise");
        if (cfgSplit == null && timestepWise == null) return a;
        return new ActivationSpec(a.bits(), a.granularity(), a.dynamic(),
                timestepWise != null ? timestepWise : a.perTimestep(), cfgSplit != null ? cfgSplit : a.cfgSplit());
    }

    private Balancing balancing(ConfigNode parent, String key) {
        JsonNode raw = parent.raw(key);
        if (raw != null && raw.isBoolean()) {
            if (raw.asBoolean()) throw parent.errorAt(key, "needs an alpha: write balancing: {alpha: 0.5}");
            return null;
        }
        ConfigNode n = parent.child(key);
        Double alpha = n.number("alpha");
        if (alpha == null) throw n.errorAt("alpha", "is required (the exponent of the balancing formula, in [0, 1])");
        checkAlpha(n, "alpha", alpha);
        List<LayerPattern> layers = patterns(n.texts("layers"), n.path() + ".layers");
        n.finish();
        return new Balancing(alpha, layers);
    }

    private Rotation rotation(ConfigNode root, Method method, Balancing balancing) {
        JsonNode raw = root.raw("rotation");
        boolean wanted = method == Method.QUAROT || method == Method.VIDITQ;
        if (raw == null) return wanted ? new Rotation(0, 0, List.of()) : null;
        if (raw.isBoolean()) {
            if (raw.asBoolean() && !wanted) throw root.errorAt("rotation", "is not part of method " + method.id() + " (use quarot or viditq)");
            if (!raw.asBoolean() && method == Method.QUAROT) throw root.errorAt("rotation", "cannot be off for quarot, whose only transform it is");
            return raw.asBoolean() ? new Rotation(0, 0, List.of()) : null;
        }
        ConfigNode n = root.child("rotation");
        boolean enabled = n.bool("enabled", true);
        JsonNode seedNode = n.raw("seed");
        long seed = 0;
        if (seedNode != null) {
            if (!seedNode.isIntegralNumber()) throw n.errorAt("seed", "should be an integer, is " + seedNode);
            seed = seedNode.asLong();
        }
        int block = n.integer("block", 0);
        if (block != 0 && !dev.viditq.core.kernels.quant.Hadamard.isSupported(block)) {
            throw n.errorAt("block", "is " + block + ", which has no Hadamard matrix here (supported: powers of two, and m·2^j for "
                    + "Paley orders m such as 12, 20, 28, 36)");
        }
        List<LayerPattern> layers = patterns(n.texts("layers"), n.path() + ".layers");
        n.finish();
        if (!enabled) {
            if (method == Method.QUAROT) throw n.errorAt("enabled", "cannot be false for quarot, whose only transform it is");
            return null;
        }
        if (!wanted) throw root.errorAt("rotation", "is not part of method " + method.id() + " (use quarot or viditq)");
        return new Rotation(seed, block, layers);
    }

    /** {@code gptq: true}, or {@code gptq: {enabled, damp, act_order, block_size}}; absent or false: round-to-nearest. */
    private static QuantConfig.Gptq gptq(ConfigNode root, WeightSpec weight) {
        QuantConfig.Gptq gptq = gptqValue(root, "gptq", null);
        if (gptq != null && weight.granularity() == WeightGranularity.TENSOR) {
            throw root.errorAt("gptq", "needs per-channel or per-group weight scales, not one per tensor");
        }
        return gptq;
    }

    /**
     * The value of a {@code gptq} key under {@code parent}: null when absent or false; {@code true} means
     * {@code whenTrue} (null: the defaults), a mapping gives the settings.
     */
    private static QuantConfig.Gptq gptqValue(ConfigNode parent, String key, QuantConfig.Gptq whenTrue) {
        JsonNode raw = parent.raw(key);
        if (raw != null && raw.isBoolean()) {
            if (!raw.asBoolean()) return null;
            return whenTrue != null ? whenTrue : new QuantConfig.Gptq(QuantConfig.Gptq.DEFAULT_DAMP, false, QuantConfig.Gptq.DEFAULT_BLOCK_SIZE);
        }
        ConfigNode n = parent.child(key);
        boolean enabled = n.bool("enabled", raw != null);
        Double damp = n.number("damp");
        boolean actOrder = n.bool("act_order", false);
        int blockSize = n.integer("block_size", QuantConfig.Gptq.DEFAULT_BLOCK_SIZE);
        n.finish();
        if (damp != null && !(damp > 0 && damp < 1)) throw n.errorAt("damp", "must be in (0, 1) (a fraction of the mean of diag H), is " + damp);
        if (blockSize < 1) throw n.errorAt("block_size", "must be positive, is " + blockSize);
        return enabled ? new QuantConfig.Gptq(damp == null ? QuantConfig.Gptq.DEFAULT_DAMP : damp, actOrder, blockSize) : null;
    }

    /**
     * {@code layer_methods}: a list of {@code {layers, granularity, group_size, gptq, low_rank}} rules giving layers
     * their own weight method (all steps). {@code gptq: true} there means the config's own GPTQ settings when it has
     * them, else the defaults.
     */
    private List<QuantConfig.MethodRule> layerMethods(ConfigNode root, QuantConfig.Gptq configGptq) {
        JsonNode raw = root.raw("layer_methods");
        List<QuantConfig.MethodRule> rules = new ArrayList<>();
        if (raw == null) return rules;
        if (!raw.isArray()) throw root.errorAt("layer_methods", "should be a list of rules ({layers, granularity, group_size, gptq, low_rank})");
        for (int i = 0; i < raw.size(); i++) {
            String where = "layer_methods[" + i + "]";
            ConfigNode n = new ConfigNode(raw.get(i), where, source);
            List<String> layers = n.texts("layers");
            if (layers.isEmpty()) throw n.errorAt("layers", "is required (a regex over Linear names, or a list of them)");
            Integer groupSize = methodGroupSize(n);
            boolean gptqGiven = n.has("gptq");
            QuantConfig.Gptq gptq = gptqGiven ? gptqValue(n, "gptq", configGptq) : null;
            if (!gptqGiven) n.raw("gptq");
            if (gptqGiven && gptq == null) gptq = QuantConfig.MethodRule.GPTQ_OFF;
            Integer lowRank = n.integer("low_rank");
            if (lowRank != null && lowRank < 0) throw n.errorAt("low_rank", "must be >= 0 (0: no low-rank branch), is " + lowRank);
            n.finish();
            if (groupSize == null && gptq == null && lowRank == null) {
                throw n.error("'" + where + "'", "changes nothing: give granularity / group_size, gptq or low_rank");
            }
            for (int j = 0; j < layers.size(); j++) {
                LayerPattern p = LayerPattern.of(layers.get(j), where + ".layers" + (layers.size() > 1 ? "[" + j + "]" : ""));
                rules.add(new QuantConfig.MethodRule(p, groupSize, gptq, lowRank, where));
            }
        }
        return rules;
    }

    /** A rule's grouping: 0 for {@code granularity: channel}, the group size for {@code group}, null when not given. */
    private static Integer methodGroupSize(ConfigNode n) {
        String g = n.text("granularity");
        Integer size = n.integer("group_size");
        if (g == null && size == null) return null;
        String gran = g == null ? "group" : g.toLowerCase(Locale.ROOT);
        switch (gran) {
            case "channel" -> {
                if (size != null) throw n.errorAt("group_size", "goes with granularity group, not channel");
                return 0;
            }
            case "group" -> {
                if (size == null || size <= 0 || size % 8 != 0) {
                    throw n.errorAt("group_size", "must be a positive multiple of 8 with granularity group, is " + size);
                }
                return size;
            }
            default -> throw n.errorAt("granularity", "is '" + g + "'; known here: channel, group");
        }
    }

    /** {@code low_rank: {rank: R}}; absent or rank 0: no low-rank branch. */
    private static QuantConfig.LowRank lowRank(ConfigNode root) {
        ConfigNode n = root.child("low_rank");
        int rank = n.integer("rank", 0);
        n.finish();
        if (rank < 0) throw n.errorAt("rank", "must be >= 0 (0: no low-rank branch), is " + rank);
        return rank == 0 ? null : new QuantConfig.LowRank(rank);
    }

    private Balancing methodBalancing(Method method, Balancing b) {
        return switch (method) {
            case NAIVE, QUAROT -> {
                if (b != null) throw new QuantConfigException(source + ": method " + method.id() + " takes no balancing "
                        + "(smooth_quant / balancing); use smoothquant or viditq");
                yield null;
            }
            case SMOOTHQUANT -> b != null ? b : new Balancing(0.5, List.of());
            case VIDITQ -> b;
        };
    }

    private List<LayerPattern> keepFloat(ConfigNode root) {
        List<LayerPattern> out = new ArrayList<>(patterns(root.texts("keep_float"), "keep_float"));
        JsonNode fp = root.raw("part_fp_list");
        if (fp != null) {
            List<String> names = fp.isTextual() ? nameList(fp.asText(), "part_fp_list") : root.texts("part_fp_list");
            for (int i = 0; i < names.size(); i++) out.add(LayerPattern.moduleName(names.get(i), "part_fp_list[" + i + "] (" + names.get(i) + ")"));
        }
        JsonNode sq = root.raw("smooth_quant_list");
        if (sq != null && !(sq.isTextual() && sq.asText().isBlank())) {
            throw root.errorAt("smooth_quant_list", "is not supported; choose balanced layers with balancing.layers (regexes)");
        }
        return out;
    }

    /**
     * ViDiT-Q's part_fp_list: a text file of module names, one per line (or an empty string: none). A line that is
     * not a module name is refused by its number, never echoed: the file may not be what the config claims.
     */
    private List<String> nameList(String file, String key) {
        if (file.isBlank()) return List.of();
        Path p = resolve(file, key);
        List<String> lines;
        try {
            lines = Files.readAllLines(p);
        } catch (IOException e) {
            throw new QuantConfigException(source + ": " + key + ": cannot read " + p + " as UTF-8 text (" + e.getClass().getSimpleName() + ")");
        }
        if (lines.size() > MAX_NAME_LIST_LINES) {
            throw new QuantConfigException(source + ": " + key + ": " + p + " has more than " + MAX_NAME_LIST_LINES + " lines");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String name = lines.get(i).strip();
            if (name.isEmpty() || name.startsWith("#")) continue;
            if (!MODULE_NAME.matcher(name).matches()) {
                throw new QuantConfigException(source + ": " + key + ": line " + (i + 1) + " of " + p + " is not a module name"
                        + " (letters, digits, '_', '.', '-')");
            }
            names.add(name);
        }
        return names;
    }

    /**
     * A file named by the config: relative to the config's folder (or, as ViDiT-Q's released configs name theirs
     * relative to their repository, its file name beside the config), and never outside that folder, links
     * resolved — a config cannot make this tool read /etc/shadow. A config given as text has no folder, so no files.
     */
    private Path resolve(String file, String key) {
        if (baseDir == null) throw new QuantConfigException(source + ": " + key + " names a file, but this config has no folder to find it in");
        Path root;
        try {
            root = baseDir.toRealPath();
        } catch (IOException e) {
            throw new QuantConfigException(source + ": cannot resolve the config's folder " + baseDir);
        }
        Path named = Path.of(file);
        for (Path candidate : new Path[]{baseDir.resolve(file), named.getFileName() == null ? null : baseDir.resolve(named.getFileName())}) {
            if (candidate == null || !Files.isRegularFile(candidate)) continue;
            try {
                if (candidate.toRealPath().startsWith(root)) return candidate;
            } catch (IOException e) {
                continue;
            }
            throw new QuantConfigException(source + ": " + key + " names '" + file + "', which lies outside the config's folder "
                    + root + "; copy the file beside the config");
        }
        throw new QuantConfigException(source + ": " + key + " names '" + file + "', which is not a file in the config's folder " + root);
    }

    private List<BitRule> bitMap(ConfigNode root) {
        JsonNode raw = root.raw("bit_map");
        List<BitRule> rules = new ArrayList<>();
        if (raw == null) return rules;
        if (!raw.isArray()) throw root.errorAt("bit_map", "should be a list of rules ({layers, weight_bits, activation_bits, steps, timesteps, float})");
        for (int i = 0; i < raw.size(); i++) {
            String where = "bit_map[" + i + "]";
            ConfigNode n = new ConfigNode(raw.get(i), where, source);
            List<String> layers = n.texts("layers");
            if (layers.isEmpty()) throw n.errorAt("layers", "is required (a regex over Linear names, or a list of them)");
            Integer wb = n.has("weight_bits") ? bits(n, "weight_bits", 0) : null;
            Integer ab = n.has("activation_bits") ? bits(n, "activation_bits", 0) : null;
            boolean keepFloat = n.bool("float", false);
            int[] steps = range(n, "steps");
            double[] timesteps = timeRange(n);
            n.finish();
            if (!keepFloat && wb == null && ab == null) throw n.error("'" + where + "'", "changes nothing: give weight_bits, activation_bits or float: true");
            if (keepFloat && (wb != null || ab != null)) throw n.error("'" + where + "'", "cannot both keep the layers float and set bits");
            if (steps != null && timesteps != null) throw n.error("'" + where + "'", "give steps or timesteps, not both");
            for (int j = 0; j < layers.size(); j++) {
                LayerPattern p = LayerPattern.of(layers.get(j), where + ".layers" + (layers.size() > 1 ? "[" + j + "]" : ""));
                rules.add(new BitRule(p, wb, ab, keepFloat, steps, timesteps, where));
            }
        }
        return rules;
    }

    private static int[] range(ConfigNode n, String key) {
        JsonNode r = n.raw(key);
        if (r == null) return null;
        if (!r.isArray() || r.size() != 2 || !r.get(0).canConvertToInt() || !r.get(1).canConvertToInt()
                || !r.get(0).isIntegralNumber() || !r.get(1).isIntegralNumber()) {
            throw n.errorAt(key, "should be [first, end): two step indices, e.g. [0, 5] for the first five steps; is " + r);
        }
        int a = r.get(0).asInt(), b = r.get(1).asInt();
        if (a < 0 || b <= a) throw n.errorAt(key, "should satisfy 0 <= first < end, is " + r);
        return new int[]{a, b};
    }

    private static double[] timeRange(ConfigNode n) {
        JsonNode r = n.raw("timesteps");
        if (r == null) return null;
        if (!r.isArray() || r.size() != 2 || !r.get(0).isNumber() || !r.get(1).isNumber()) {
            throw n.errorAt("timesteps", "should be [low, high] on the model's 0..1000 time scale, is " + r);
        }
        double a = r.get(0).asDouble(), b = r.get(1).asDouble();
        if (a > b) throw n.errorAt("timesteps", "should satisfy low <= high, is " + r);
        return new double[]{a, b};
    }

    // ---------------------------------------------------------------- ViDiT-Q's released layout

    private WeightSpec referenceWeight(ConfigNode w) {
        if (w.raw("optimization") != null) notes.add("quant.weight.optimization ignored (no learned rounding here)");
        ConfigNode q = w.child("quantizer");
        w.finish();
        int bits = bits(q, "n_bits", -1);
        if (bits < 0) throw q.errorAt("n_bits", "is required");
        WeightGranularity g = referenceWeightGranularity(q);
        Integer dim = q.integer("channel_dim");
        if (dim != null && dim != 0) throw q.errorAt("channel_dim", "must be 0 (one scale per output channel), is " + dim);
        checkScaleMethod(q);
        checkRoundMode(q);
        boolean symmetric = q.bool("sym", false);
        int groupSize = q.integer("group_size", 128);
        q.finish();
        return weightSpec(q, bits, symmetric, g, groupSize, QuantConfig.ScaleType.F32);
    }

    private WeightGranularity referenceWeightGranularity(ConfigNode q) {
        JsonNode pg = q.raw("per_group");
        Boolean channelWise = q.bool("channel_wise");
        if (pg == null || (pg.isBoolean() && !pg.asBoolean())) {
            return channelWise == null || channelWise ? (pg == null ? WeightGranularity.CHANNEL : WeightGranularity.TENSOR)
                    : WeightGranularity.TENSOR;
        }
        String s = pg.asText().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "channel" -> WeightGranularity.CHANNEL;
            case "group" -> WeightGranularity.GROUP;
            case "tensor" -> WeightGranularity.TENSOR;
            default -> throw q.errorAt("per_group", "'" + pg.asText() + "' is not a weight granularity here (channel, group, tensor or false)");
        };
    }

    private record ReferenceActivation(ActivationSpec spec, Balancing balancing) {}

    private ReferenceActivation referenceActivation(ConfigNode a, ConfigNode root) {
        if (a.raw("optimization") != null) notes.add("quant.activation.optimization ignored (no learned ranges here)");
        ConfigNode q = a.child("quantizer");
        a.finish();
        int bits = bits(q, "n_bits", -1);
        if (bits < 0) throw q.errorAt("n_bits", "is required");
        ActivationGranularity g = referenceActivationGranularity(q);
        boolean dynamic = q.bool("dynamic", false);
        Boolean sym = q.bool("sym");
        if (sym != null && !sym) notes.add("quant.activation.quantizer.sym: false — activations run symmetric here (the integer kernels take no activation zero point)");
        checkScaleMethod(q);
        checkRoundMode(q);
        if (q.raw("running_stat") != null) notes.add("quant.activation.quantizer.running_stat ignored (static ranges are the calibration maxima)");
        for (String k : List.of("n_spatial_token", "n_temporal_token", "n_prompt")) {
            if (q.raw(k) != null) notes.add("quant.activation.quantizer." + k + " ignored (token counts come from the data)");
        }
        if (q.raw("softmax") != null) notes.add("quant.activation.quantizer.softmax ignored (attention matmuls are not quantized)");
        Balancing balancing = referenceSmoothQuant(q);
        q.finish();
        return new ReferenceActivation(activationSpec(q, bits, g, dynamic, false, false), balancing);
    }

    private ActivationGranularity referenceActivationGranularity(ConfigNode q) {
        JsonNode pg = q.raw("per_group");
        Boolean channelWise = q.bool("channel_wise");
        if (channelWise != null && channelWise) {
            throw q.errorAt("channel_wise", "per-channel activation scales cannot run on the integer kernels (one scale per token or tensor)");
        }
        if (pg == null || (pg.isBoolean() && !pg.asBoolean())) return ActivationGranularity.TENSOR;
        String s = pg.asText().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "token" -> ActivationGranularity.TOKEN;
            case "tensor" -> ActivationGranularity.TENSOR;
            default -> throw q.errorAt("per_group", "'" + pg.asText() + "' cannot run on the integer kernels: activations take "
                    + "one scale per token ('token') or per tensor (false)");
        };
    }

    private Balancing referenceSmoothQuant(ConfigNode q) {
        if (!q.has("smooth_quant")) {
            q.raw("smooth_quant");
            return null;
        }
        ConfigNode sq = q.child("smooth_quant");
        boolean enable = sq.bool("enable", false);
        JsonNode alphaNode = sq.raw("alpha");
        if (sq.raw("channel_wise_scale_type") != null) notes.add("smooth_quant.channel_wise_scale_type: balancing uses the maximum over all calibration data");
        if (sq.raw("momentum") != null) notes.add("smooth_quant.momentum ignored (the maximum over all calibration data is used)");
        JsonNode timerange = sq.raw("timerange");
        sq.finish();
        if (!enable) return null;
        if (alphaNode == null) throw sq.errorAt("alpha", "is required when smooth_quant is enabled");
        double alpha;
        if (alphaNode.isNumber()) {
            alpha = alphaNode.asDouble();
        } else if (alphaNode.isArray() && !alphaNode.isEmpty() && alphaNode.get(0).isNumber()) {
            alpha = alphaNode.get(0).asDouble();
            for (JsonNode v : alphaNode) {
                if (!v.isNumber() || v.asDouble() != alpha) {
                    throw sq.errorAt("alpha", "differs between time ranges " + alphaNode + "; one balancing per layer is supported "
                            + "(use the bit_map's timestep ranges for time-dependent precision)");
                }
            }
            if (timerange != null) notes.add("smooth_quant.timerange: every range has alpha " + alpha + ", so one balancing is used");
        } else {
            throw sq.errorAt("alpha", "should be a number or a list of numbers, is " + alphaNode);
        }
        checkAlpha(sq, "alpha", alpha);
        return new Balancing(alpha, List.of());
    }

    private static void checkScaleMethod(ConfigNode q) {
        String m = q.text("scale_method");
        if (m != null && !m.equals("min_max")) throw q.errorAt("scale_method", "'" + m + "' is not supported (only min_max)");
    }

    private static void checkRoundMode(ConfigNode q) {
        String m = q.text("round_mode");
        if (m != null && !m.equals("nearest") && !m.equals("nearest_ste")) {
            throw q.errorAt("round_mode", "'" + m + "' is not supported (nearest; learned rounding needs training)");
        }
    }

    // ---------------------------------------------------------------- shared

    private static Method inferMethod(ActivationSpec a, Balancing b) {
        if (!a.dynamic()) return b == null ? Method.NAIVE : Method.SMOOTHQUANT;
        return Method.VIDITQ;
    }

    private Method method(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        for (Method m : Method.values()) if (m.id().equals(n)) return m;
        throw new QuantConfigException(source + ": 'method' is '" + name + "'; known: naive, smoothquant, quarot, viditq");
    }

    private void checkCombination(QuantConfig c) {
        if (!c.activation().dynamic() && c.rotation() != null) {
            throw new QuantConfigException(source + ": static activation ranges cannot be combined with rotation (method "
                    + c.method().id() + "): calibration records the channel maxima of the unrotated input, which do not bound "
                    + "the rotated one; use dynamic activations");
        }
        if (c.activation().dynamic() && (c.activation().perTimestep() || c.activation().cfgSplit())) {
            notes.add("activation per_timestep / cfg_split only matter for static ranges; dynamic scales follow every token");
        }
    }

    private static int bits(ConfigNode n, String key, int fallback) {
        Integer b = n.integer(key);
        if (b == null) return fallback;
        if (b < 2 || b > 8) {
            throw n.errorAt(key, "is " + b + ", outside 2..8 (the integer kernels hold at most 8 bits; keep a layer in float with "
                    + "keep_float or a bit_map rule with float: true)");
        }
        return b;
    }

    private static void checkAlpha(ConfigNode n, String key, double alpha) {
        if (!(alpha >= 0 && alpha <= 1)) throw n.errorAt(key, "is " + alpha + ", outside [0, 1]");
    }

    private static <E extends Enum<E>> E enumValue(ConfigNode n, String key, Class<E> type, E fallback) {
        String v = n.text(key);
        if (v == null) return fallback;
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(v)) return e;
        List<String> known = new ArrayList<>();
        for (E e : type.getEnumConstants()) known.add(e.name().toLowerCase(Locale.ROOT));
        throw n.errorAt(key, "is '" + v + "'; known: " + String.join(", ", known));
    }

    private static List<LayerPattern> patterns(List<String> regexes, String origin) {
        List<LayerPattern> out = new ArrayList<>();
        for (int i = 0; i < regexes.size(); i++) out.add(LayerPattern.of(regexes.get(i), origin + "[" + i + "]"));
        return out;
    }
}
