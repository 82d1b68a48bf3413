package dev.viditq.core.io;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The JSON reader for configs and metadata: a key given twice is an error ("Duplicate field 'depth'"), never the
 * silent last-one-wins of a default mapper, so an edit that adds a second value cannot quietly override the first.
 */
public final class StrictJson {
    public static final ObjectMapper MAPPER = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private StrictJson() {}

    /** A model's config.json as a tree; a missing, unreadable or malformed file is a {@link CheckpointException} naming it. */
    public static JsonNode readConfig(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file, "is not a readable config.json: " + e.getMessage(), e);
        }
    }

    /**
     * Reads {@code file} and builds a config from it; the parser's {@link IllegalArgumentException} (a missing or
     * out-of-range field) becomes "is not a usable WHAT: ..." naming the file.
     */
    public static <T> T readConfig(Path file, String what, Function<JsonNode, T> parse) {
        JsonNode tree = readConfig(file);
        try {
            return parse.apply(tree);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "is not a usable " + what + ": " + e.getMessage(), e);
        }
    }
}
