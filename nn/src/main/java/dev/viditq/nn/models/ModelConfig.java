package dev.viditq.nn.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.StrictJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model's config.json (a diffusers config as saved, or the constructor arguments of an original model) with typed
 * getters. A missing key without a default, or a value of the wrong type, is an error naming the file and the key.
 * Explicit JSON nulls count as absent, as diffusers treats them.
 */
public final class ModelConfig {
    private static final ObjectMapper JSON = StrictJson.MAPPER;

    private final Path path;
    private final JsonNode root;

    public ModelConfig(Path path, JsonNode root) {
        if (root == null || !root.isObject()) throw new ModelConfigException(path, "is not a JSON object");
        this.path = path;
        this.root = root;
    }

    public static ModelConfig read(Path file) {
        if (!Files.isRegularFile(file)) throw new ModelConfigException(file, "no such file (every model folder needs a config.json)");
        try {
            return new ModelConfig(file, JSON.readTree(file.toFile()));
        } catch (IOException e) {
            throw new ModelConfigException(file, "is not valid JSON: " + e.getMessage());
        }
    }

    public Path path() {
        return path;
    }

    public boolean has(String key) {
        JsonNode n = root.get(key);
        return n != null && !n.isNull();
    }

    public int getInt(String key) {
        return toInt(key, need(key));
    }

    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    public double getDouble(String key) {
        JsonNode n = need(key);
        if (!n.isNumber()) throw wrong(key, "a number", n);
        return n.asDouble();
    }

    public double getDouble(String key, double fallback) {
        return has(key) ? getDouble(key) : fallback;
    }

    public boolean getBool(String key, boolean fallback) {
        if (!has(key)) return fallback;
        JsonNode n = root.get(key);
        if (!n.isBoolean()) throw wrong(key, "true or false", n);
        return n.asBoolean();
    }

    public String getString(String key, String fallback) {
        if (!has(key)) return fallback;
        JsonNode n = root.get(key);
        if (!n.isTextual()) throw wrong(key, "a string", n);
        return n.asText();
    }

    /** An integer list (e.g. STDiT's input_size [T, H, W]); a single integer is read as a list of one. */
    public int[] getIntList(String key) {
        JsonNode n = need(key);
        if (n.isInt() || n.isLong()) return new int[]{toInt(key, n)};
        if (!n.isArray()) throw wrong(key, "a list of integers", n);
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = toInt(key, n.get(i));
        return out;
    }

    /** The raw node (nested objects such as kv_compress_config), or null. */
    public JsonNode node(String key) {
        return has(key) ? root.get(key) : null;
    }

    /** An error about this config, naming its file. */
    public ModelConfigException error(String problem) {
        return new ModelConfigException(path, problem);
    }

    private JsonNode need(String key) {
        if (!has(key)) throw new ModelConfigException(path, "lacks the key \"" + key + "\"");
        return root.get(key);
    }

    private int toInt(String key, JsonNode n) {
        if (n.isIntegralNumber() && n.canConvertToInt()) return n.asInt();
        if (n.isNumber() && n.asDouble() == Math.rint(n.asDouble())) return (int) n.asDouble();
        throw wrong(key, "an integer", n);
    }

    private ModelConfigException wrong(String key, String expected, JsonNode n) {
        return new ModelConfigException(path, "\"" + key + "\" should be " + expected + ", is " + n);
    }

    /** A config that cannot be used; the message starts with the file. */
    public static final class ModelConfigException extends IllegalArgumentException {
        public ModelConfigException(Path file, String problem) {
            super(file + ": " + problem);
        }
    }
}
