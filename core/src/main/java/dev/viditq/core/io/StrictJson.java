package dev.viditq.core.io;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The JSON reader for configs and metadata: a key given twice is an error ("Duplicate field 'depth'"), never the
 * silent last-one-wins of a default mapper, so an edit that adds a second value cannot quietly override the first.
 */
public final class StrictJson {
    public static final ObjectMapper MAPPER = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private StrictJson() {}
}
