package dev.viditq.eval.mp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One measurement of a sensitivity run: a group quantized alone at one precision in one timestep range, everything
 * else float, scored against the float run (docs/MIXED_PRECISION.md, "Metrics"). Undefined values (PSNR of an
 * identical output, temporal measures of images) are NaN here and null in JSON.
 *
 * @param metric      the group's own metric: alignment, temporal or fidelity
 * @param metricDelta loss of that metric against float, positive = worse
 * @param temporalComponents videos: trajectory residual, color drift, size variation, background flicker, track
 *                           coverage (means over the videos); null for images
 */
public record SensitivityEntry(String group, String kind, int range, String precision, int weightBits, int activationBits,
                               String metric, double metricValue, double metricDelta, double mse, double psnr, double ssim,
                               double alignment, double alignmentDelta, double fidelityDelta, double motionAccuracy,
                               double motionAccuracyDelta, double temporal, double temporalDelta, double[] temporalComponents,
                               double seconds) implements java.io.Serializable {
    /** Names of {@link #temporalComponents}, as written. */
    public static final List<String> TEMPORAL_COMPONENTS = List.of("trajectory_residual_px", "color_drift", "size_variation",
            "background_flicker", "track_coverage");

    /** Resumption key: one entry per (group, range, precision). */
    public String key() {
        return key(group, range, precision);
    }

    public static String key(String group, int range, String precision) {
        return group + "|" + range + "|" + precision;
    }

    public ObjectNode toJson(ObjectMapper mapper) {
        ObjectNode o = mapper.createObjectNode();
        o.put("group", group);
        o.put("kind", kind);
        o.put("range", range);
        o.put("precision", precision);
        o.put("weight_bits", weightBits);
        o.put("activation_bits", activationBits);
        o.put("metric", metric);
        put(o, "metric_value", metricValue);
        put(o, "metric_delta", metricDelta);
        put(o, "mse", mse);
        put(o, "psnr", psnr);
        put(o, "ssim", ssim);
        put(o, "alignment", alignment);
        put(o, "alignment_delta", alignmentDelta);
        put(o, "fidelity_delta", fidelityDelta);
        if (temporalComponents != null) {
            put(o, "motion_accuracy", motionAccuracy);
            put(o, "motion_accuracy_delta", motionAccuracyDelta);
            put(o, "temporal", temporal);
            put(o, "temporal_delta", temporalDelta);
            ObjectNode c = o.putObject("temporal_components");
            for (int i = 0; i < TEMPORAL_COMPONENTS.size(); i++) put(c, TEMPORAL_COMPONENTS.get(i), temporalComponents[i]);
        }
        o.put("seconds", Math.round(seconds * 1000) / 1000.0);
        return o;
    }

    public static SensitivityEntry fromJson(JsonNode o) {
        double[] components = null;
        if (o.hasNonNull("temporal_components")) {
            components = new double[TEMPORAL_COMPONENTS.size()];
            for (int i = 0; i < components.length; i++) components[i] = num(o.get("temporal_components"), TEMPORAL_COMPONENTS.get(i));
        }
        return new SensitivityEntry(o.get("group").asText(), o.get("kind").asText(), o.get("range").asInt(), o.get("precision").asText(),
                o.get("weight_bits").asInt(), o.get("activation_bits").asInt(), o.get("metric").asText(), num(o, "metric_value"),
                num(o, "metric_delta"), num(o, "mse"), num(o, "psnr"), num(o, "ssim"), num(o, "alignment"), num(o, "alignment_delta"),
                num(o, "fidelity_delta"), num(o, "motion_accuracy"), num(o, "motion_accuracy_delta"), num(o, "temporal"),
                num(o, "temporal_delta"), components, num(o, "seconds"));
    }

    /** Column names of {@link #csvRow}. */
    public static String csvHeader() {
        List<String> cols = new ArrayList<>(List.of("group", "kind", "range", "precision", "weight_bits", "activation_bits", "metric",
                "metric_value", "metric_delta", "mse", "psnr", "ssim", "alignment", "alignment_delta", "fidelity_delta",
                "motion_accuracy", "motion_accuracy_delta", "temporal", "temporal_delta"));
        cols.addAll(TEMPORAL_COMPONENTS);
        cols.add("seconds");
        return String.join(",", cols);
    }

    public String csvRow() {
        List<String> cells = new ArrayList<>(List.of(group, kind, Integer.toString(range), precision, Integer.toString(weightBits),
                Integer.toString(activationBits), metric));
        for (double v : new double[]{metricValue, metricDelta, mse, psnr, ssim, alignment, alignmentDelta, fidelityDelta,
                motionAccuracy, motionAccuracyDelta, temporal, temporalDelta}) cells.add(cell(v));
        for (int i = 0; i < TEMPORAL_COMPONENTS.size(); i++) cells.add(temporalComponents == null ? "" : cell(temporalComponents[i]));
        cells.add(String.format(Locale.ROOT, "%.3f", seconds));
        return String.join(",", cells);
    }

    private static String cell(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "";
    }

    private static void put(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    private static double num(JsonNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
    }
}
