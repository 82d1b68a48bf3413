package dev.viditq.quant.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One mapping of a YAML config while it is read: typed getters that name the full key path in their errors, and
 * {@link #finish()}, which refuses every key nobody asked for (a typo must not silently mean "default").
 */
final class ConfigNode {
    private final JsonNode json;
    private final String path;
    private final String source;
    private final Set<String> asked = new LinkedHashSet<>();

    ConfigNode(JsonNode json, String path, String source) {
        this.json = json;
        this.path = path;
        this.source = source;
        if (json != null && !json.isObject()) throw error(path.isEmpty() ? "the config" : "'" + path + "'", "should be a mapping of keys, is " + json);
    }

    String path() {
        return path;
    }

    String source() {
        return source;
    }

    private String full(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    QuantConfigException error(String key, String problem) {
        return new QuantConfigException(source + ": " + key + " " + problem);
    }

    QuantConfigException errorAt(String key, String problem) {
        return error("'" + full(key) + "'", problem);
    }

    /** The raw value (marks the key as known), or null when absent or YAML null. */
    JsonNode raw(String key) {
        asked.add(key);
        if (json == null) return null;
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String key) {
        return json != null && json.has(key) && !json.get(key).isNull();
    }

    /** A nested mapping; an absent key gives an empty node. */
    ConfigNode child(String key) {
        return new ConfigNode(raw(key), full(key), source);
    }

    Integer integer(String key) {
        JsonNode n = raw(key);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw errorAt(key, "should be an integer, is " + n);
        return n.asInt();
    }

    int integer(String key, int fallback) {
        Integer v = integer(key);
        return v == null ? fallback : v;
    }

    Double number(String key) {
        JsonNode n = raw(key);
        if (n == null) return null;
        if (!n.isNumber()) throw errorAt(key, "should be a number, is " + n);
        return n.asDouble();
    }

    Boolean bool(String key) {
        JsonNode n = raw(key);
        if (n == null) return null;
        if (!n.isBoolean()) throw errorAt(key, "should be true or false, is " + n);
        return n.asBoolean();
    }

    boolean bool(String key, boolean fallback) {
        Boolean v = bool(key);
        return v == null ? fallback : v;
    }

    String text(String key) {
        JsonNode n = raw(key);
        if (n == null) return null;
        if (!n.isTextual()) throw errorAt(key, "should be a string, is " + n);
        return n.asText();
    }

    /** A string or a list of strings, as a list (absent: empty). */
    List<String> texts(String key) {
        JsonNode n = raw(key);
        List<String> out = new ArrayList<>();
        if (n == null) return out;
        if (n.isTextual()) {
            out.add(n.asText());
            return out;
        }
        if (!n.isArray()) throw errorAt(key, "should be a string or a list of strings, is " + n);
        for (JsonNode e : n) {
            if (!e.isTextual()) throw errorAt(key, "should hold only strings, has " + e);
            out.add(e.asText());
        }
        return out;
    }

    /** Every key of the mapping, in file order. */
    List<String> keys() {
        List<String> out = new ArrayList<>();
        if (json != null) json.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Refuses keys that were never asked for, listing the ones this mapping knows. */
    void finish() {
        if (json == null) return;
        Iterator<String> names = json.fieldNames();
        while (names.hasNext()) {
            String k = names.next();
            if (!asked.contains(k)) {
                throw new QuantConfigException(source + ": unknown key '" + full(k) + "' (known here: " + String.join(", ", asked) + ")");
            }
        }
    }
}
