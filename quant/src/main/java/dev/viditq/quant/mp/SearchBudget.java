package dev.viditq.quant.mp;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The search's budget: an average number of weight bits (parameter-weighted over the groups' layers and the
 * sampling steps: what the weights cost per multiply-accumulate, e.g. 4.5), or a number of bytes of stored
 * quantized weights (packed integers + scales + zero points, every bit width a layer needs counted).
 *
 * <p>Written as a plain number between 2 and 8 for bits, or a number with a byte unit for bytes:
 * {@code 4.5}, {@code 3.5MiB}, {@code 3600000B}, {@code 2.1MB}.
 */
public record SearchBudget(Kind kind, double value) {
    public enum Kind { BITS, BYTES }

    private static final Pattern BYTES = Pattern.compile("([0-9]*\\.?[0-9]+)\\s*(B|KB|KIB|MB|MIB|GB|GIB)");

    public static SearchBudget parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        Matcher m = BYTES.matcher(t);
        if (m.matches()) {
            double v = Double.parseDouble(m.group(1)) * unit(m.group(2));
            if (v < 1) throw new IllegalArgumentException("--budget " + text + ": a byte budget must be at least 1 byte");
            return new SearchBudget(Kind.BYTES, Math.floor(v));
        }
        try {
            double bits = Double.parseDouble(t);
            if (bits >= 2 && bits <= 8) return new SearchBudget(Kind.BITS, bits);
        } catch (NumberFormatException ignored) {
            // falls through to the message below
        }
        throw new IllegalArgumentException("--budget " + text + ": give average weight bits between 2 and 8 (e.g. 4.5), "
                + "or stored weight bytes with a unit (e.g. 3.5MiB, 3600000B)");
    }

    private static double unit(String u) {
        return switch (u) {
            case "B" -> 1;
            case "KB" -> 1e3;
            case "KIB" -> 1024;
            case "MB" -> 1e6;
            case "MIB" -> 1024 * 1024;
            case "GB" -> 1e9;
            default -> 1024.0 * 1024 * 1024;
        };
    }

    @Override
    public String toString() {
        return kind == Kind.BITS ? String.format(Locale.ROOT, "%.3f average weight bits", value)
                : String.format(Locale.ROOT, "%.0f stored weight bytes", value);
    }
}
