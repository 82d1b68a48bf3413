package dev.viditq.bench.e2e;

import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The precision a benchmark runs at: the checkpoint's BF16 weights as they are, or a ViDiT-Q config (weights
 * quantized from the random BF16 model, activations per-token dynamic int8). w8a8 and w4a8 are the quant module's
 * presets; w4a8-mp is the benchmark's own generic mixed-precision plan ({@code plans/xl-w4a8-mp.yaml} in this
 * module's resources: viditq-w4a8 with 8-bit attention output projections, 4.5 average weight bits), because the
 * preset viditq-w4a8-mp (MLPs at 8 bits) averages about 6.5 bits on these architectures. w4a8-g128 is the plan
 * {@code plans/xl-w4a8-g128.yaml}: int4 weights in groups of 128, the format viditq-gptq-w4a8-g128 stores.
 * w8a8-separate-inputs ({@code plans/w8a8-separate-inputs.yaml}) is w8a8 with every Linear quantizing its own input,
 * also where several read one (diffusers' to_q / to_k / to_v): beside w8a8, what sharing that input saves.
 */
public enum Setting {
    BF16("bf16", null, null),
    W8A8("w8a8", "viditq-w8a8", null),
    W4A8("w4a8", "viditq-w4a8", null),
    W4A8_MP("w4a8-mp", null, "xl-w4a8-mp"),
    W4A8_G128("w4a8-g128", null, "xl-w4a8-g128"),
    W8A8_SEPARATE_INPUTS("w8a8-separate-inputs", null, "w8a8-separate-inputs");

    private final String label;
    private final String preset;
    private final String benchPlan;

    Setting(String label, String preset, String benchPlan) {
        this.label = label;
        this.preset = preset;
        this.benchPlan = benchPlan;
    }

    /** The config's name: a quant preset or {@code bench:PLAN}; null for the float setting. */
    public String configName() {
        return preset != null ? preset : benchPlan == null ? null : "bench:" + benchPlan;
    }

    /** The config's YAML text (the preset's, or the bench plan resource's); null for the float setting. */
    public String configText() {
        if (preset != null) return Presets.text(preset);
        if (benchPlan == null) return null;
        String resource = "/dev/viditq/bench/plans/" + benchPlan + ".yaml";
        try (InputStream in = Setting.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("bench plan resource " + resource + " is missing from the build");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** The quantization config of this setting; null for the float setting. */
    public QuantConfig config() {
        String text = configText();
        return text == null ? null : QuantConfigReader.parse(text, configName(), null);
    }

    public String label() {
        return label;
    }

    public boolean quantized() {
        return preset != null || benchPlan != null;
    }

    public static Setting parse(String s) {
        for (Setting v : values()) if (v.label.equals(s)) return v;
        throw new IllegalArgumentException("unknown setting '" + s + "'; known: "
                + Arrays.stream(values()).map(Setting::label).collect(Collectors.joining(", ")));
    }
}
