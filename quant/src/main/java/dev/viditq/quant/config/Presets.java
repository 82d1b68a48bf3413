package dev.viditq.quant.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The named configs bundled as resources ({@code dev/viditq/quant/presets/NAME.yaml}), written in the schema of
 * docs/QUANT_CONFIG.md; {@code ./viditq quantize --preset NAME}, or {@code preset: NAME} inside a config to start
 * from one. Parsed by {@code QuantConfigReader.preset(NAME)}.
 */
public final class Presets {
    public static final List<String> NAMES = List.of("naive-w8a8", "naive-w4a8", "smoothquant-w8a8", "quarot-w8a8",
            "viditq-w8a8", "viditq-gptq-w8a8", "viditq-w6a6", "viditq-w4a8", "viditq-w4a8-mp", "viditq-gptq-w4a8",
            "viditq-gptq-w4a8-g128", "viditq-gptq-w4a8-g64", "svdquant-w4a8", "viditq-lr-gptq-w4a8");

    private Presets() {}

    /** The preset's YAML text. */
    public static String text(String name) {
        if (!NAMES.contains(name)) {
            throw new QuantConfigException("unknown preset '" + name + "'; known: " + String.join(", ", NAMES));
        }
        try (InputStream in = Presets.class.getResourceAsStream("/dev/viditq/quant/presets/" + name + ".yaml")) {
            if (in == null) throw new IllegalStateException("preset resource " + name + ".yaml is missing from the build");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read preset " + name, e);
        }
    }
}
