package dev.viditq.bench.e2e;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The precision a benchmark runs at: the checkpoint's BF16 weights as they are, or one of the quant module's
 * ViDiT-Q presets (weights quantized in-process from the random BF16 model, activations per-token dynamic int8, so
 * no calibration data is needed).
 */
public enum Setting {
    BF16("bf16", null),
    W8A8("w8a8", "viditq-w8a8"),
    W4A8("w4a8", "viditq-w4a8"),
    W4A8_MP("w4a8-mp", "viditq-w4a8-mp");

    private final String label;
    private final String preset;

    Setting(String label, String preset) {
        this.label = label;
        this.preset = preset;
    }

    public String label() {
        return label;
    }

    /** The quant module's preset name, or null for the float setting. */
    public String preset() {
        return preset;
    }

    public boolean quantized() {
        return preset != null;
    }

    public static Setting parse(String s) {
        for (Setting v : values()) if (v.label.equals(s)) return v;
        throw new IllegalArgumentException("unknown setting '" + s + "'; known: "
                + Arrays.stream(values()).map(Setting::label).collect(Collectors.joining(", ")));
    }
}
