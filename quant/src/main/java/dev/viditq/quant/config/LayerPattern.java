package dev.viditq.quant.config;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A regular expression over Linear names (checkpoint keys without ".weight"), matched against the whole name
 * ({@code blocks\.\d+\.cross_attn\..*}), with where it was written ({@code keep_float[2]}) for error messages.
 */
public record LayerPattern(String regex, Pattern pattern, String origin) {
    /** Compiles {@code regex}; a syntax error names {@code origin}. */
    public static LayerPattern of(String regex, String origin) {
        try {
            return new LayerPattern(regex, Pattern.compile(regex), origin);
        } catch (PatternSyntaxException e) {
            throw new QuantConfigException(origin + ": '" + regex + "' is not a valid regular expression: " + e.getDescription());
        }
    }

    /**
     * A plain layer name as ViDiT-Q's part_fp_list writes them ({@code t_block}, {@code final_layer}): it matches
     * that module and everything inside it.
     */
    public static LayerPattern moduleName(String name, String origin) {
        return of("(.*\\.)?" + Pattern.quote(name) + "(\\..*)?", origin);
    }

    public boolean matches(String layerName) {
        return pattern.matcher(layerName).matches();
    }

    @Override
    public String toString() {
        return origin + " '" + regex + "'";
    }
}
