package dev.viditq.eval.sweep;

import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One row of a sweep: the float model itself, a named preset ({@code viditq-w8a8}), or a quantization config file
 * (a YAML of docs/QUANT_CONFIG.md; a mixed-precision plan is such a file with a {@code bit_map}). The name is the
 * preset's, or the file's name without {@code .yaml}; it names the setting's folder in the run directory.
 *
 * @param file the config file; null for float and presets
 */
public record SweepSetting(String name, Source source, Path file) {
    public static final String FLOAT = "float";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");

    public enum Source { FLOAT, PRESET, CONFIG }

    public SweepSetting {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("setting name '" + name + "' cannot name a folder: use letters, digits, '.', '_', '+', '-'");
        }
    }

    /**
     * The settings of {@code --settings} (float, presets, config files) followed by the {@code --plan} files, in
     * that order; float is put first when not named, since every other setting is measured against it.
     */
    public static List<SweepSetting> parse(List<String> settings, List<Path> plans) {
        Map<String, SweepSetting> byName = new LinkedHashMap<>();
        List<SweepSetting> all = new ArrayList<>();
        for (String s : settings) all.add(ofWord(s.strip()));
        for (Path p : plans) all.add(ofFile(p));
        if (all.stream().noneMatch(s -> s.source == Source.FLOAT)) all.addFirst(new SweepSetting(FLOAT, Source.FLOAT, null));
        for (SweepSetting s : all) {
            SweepSetting earlier = byName.putIfAbsent(s.name, s);
            if (earlier != null) {
                throw new IllegalArgumentException("setting '" + s.name + "' is given twice" + (s.file != null || earlier.file != null
                        ? " (" + describe(earlier) + " and " + describe(s) + "): rename one of the files" : ""));
            }
        }
        List<SweepSetting> ordered = new ArrayList<>(byName.values());
        ordered.sort((a, b) -> Boolean.compare(b.source == Source.FLOAT, a.source == Source.FLOAT)); // stable: float first
        return List.copyOf(ordered);
    }

    static SweepSetting ofWord(String word) {
        if (word.isEmpty()) throw new IllegalArgumentException("empty setting name in --settings");
        if (word.equals(FLOAT)) return new SweepSetting(FLOAT, Source.FLOAT, null);
        if (Presets.NAMES.contains(word)) return new SweepSetting(word, Source.PRESET, null);
        Path p = Path.of(word);
        if (word.endsWith(".yaml") || word.endsWith(".yml") || word.contains("/") || Files.exists(p)) return ofFile(p);
        throw new IllegalArgumentException("unknown setting '" + word + "': not 'float', a preset (" + String.join(", ", Presets.NAMES)
                + ") or a config file");
    }

    static SweepSetting ofFile(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such quantization config / plan file");
        String name = file.getFileName().toString().replaceFirst("\\.(yaml|yml)$", "");
        if (name.equals(FLOAT)) throw new IllegalArgumentException(file + ": a config cannot be named 'float' (the reference's name)");
        return new SweepSetting(name, Source.CONFIG, file);
    }

    private static String describe(SweepSetting s) {
        return s.file != null ? s.file.toString() : s.source == Source.FLOAT ? "the float model" : "preset " + s.name;
    }

    public boolean isFloat() {
        return source == Source.FLOAT;
    }

    /** The config (null for float); read errors name the file. */
    public QuantConfig config() {
        return switch (source) {
            case FLOAT -> null;
            case PRESET -> QuantConfigReader.preset(name);
            case CONFIG -> QuantConfigReader.read(file);
        };
    }

    /** The YAML text that defines the setting ("" for float): what its results were made from. */
    public String text() {
        try {
            return switch (source) {
                case FLOAT -> "";
                case PRESET -> Presets.text(name);
                case CONFIG -> Files.readString(file);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** sha256 of {@link #text}: a finished setting is reused only when its config is unchanged. */
    public String fingerprint() {
        return sha256(text().getBytes(StandardCharsets.UTF_8));
    }

    /** "float", "preset viditq-w8a8" or the file path. */
    public String origin() {
        return describe(this);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
