package dev.viditq.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.eval.shapes.Kind;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A sweep's figures: each setting's result.json ({@link #result}), the summary with its quality checks
 * ({@link #summary}) and its markdown tables ({@link #markdown}).
 */
public final class SweepTable {
    /** Bars: ViDiT-Q W8A8 within 1 alignment point of float; PSNR against float at least this (images / videos). */
    static final double ALIGNMENT_POINT = 0.01, IMAGE_PSNR_BAR = 30, VIDEO_PSNR_BAR = 28;
    /** ViDiT-Q against the naive baseline of the same bit width. */
    static final String[][] PAIRS = {{"viditq-w8a8", "naive-w8a8"}, {"viditq-w4a8", "naive-w4a8"}};

    private SweepTable() {}

    /** One setting's result.json: the worker's evaluation report reduced to the sweep's fields, plus sizes and timing. */
    static ObjectNode result(SweepSetting s, JsonNode report, Path evaluated, long modelBytes, Double storedBitsPerWeight,
                             long floatParameters, double quantizeSeconds) {
        ObjectNode r = Sweep.JSON.createObjectNode();
        r.put("setting", s.name());
        r.put("origin", s.origin());
        r.put("config_sha256", s.fingerprint());
        r.put("model_folder", evaluated.toString());
        r.put("kind", report.path("kind").asText());
        r.put("count", report.path("count").asInt());
        r.set("settings", report.path("settings"));
        r.set("alignment", report.path("alignment"));
        r.set("alignment_by_attribute", report.path("alignment_by_attribute"));
        r.set("alignment_by_objects", report.path("alignment_by_objects"));
        if (s.isFloat()) {
            r.putNull("psnr");
            r.putNull("ssim");
        } else {
            r.set("psnr", report.path("psnr"));
            for (String k : new String[]{"psnr_median", "psnr_p10", "forked", "low_psnr"}) r.set(k, report.path(k));
            r.set("ssim", report.path("ssim"));
            if (report.has("psnr_per_frame")) {
                r.set("psnr_per_frame", report.get("psnr_per_frame"));
                r.set("ssim_per_frame", report.get("ssim_per_frame"));
            }
        }
        if (report.has("temporal")) {
            r.set("temporal", report.get("temporal"));
            r.set("motion_accuracy", report.get("motion_accuracy"));
        } else {
            r.putNull("temporal");
            r.putNull("motion_accuracy");
        }
        r.put("model_bytes", modelBytes);
        r.put("ratio_to_bf16", modelBytes / (2.0 * floatParameters));
        if (storedBitsPerWeight == null) r.putNull("stored_bits_per_weight");
        else r.put("stored_bits_per_weight", storedBitsPerWeight);
        r.set("resident_weight_bytes", report.path("resident_weight_bytes"));
        r.set("peak_rss_bytes", report.path("peak_rss_bytes"));
        r.put("worker_jvm_memory_options", String.join(" ", WorkerProcess.memoryOptions()));
        JsonNode timing = report.path("timing");
        // after the first batch, which pays for the fresh JVM's JIT warm-up; the whole run when there is one batch
        r.put("sec_per_step", timing.has("steady_seconds_per_step") ? timing.get("steady_seconds_per_step").asDouble()
                : report.path("seconds_per_step").asDouble());
        r.set("sec_per_step_with_warmup", report.path("seconds_per_step"));
        r.set("seconds_per_sample", report.path("seconds_per_sample"));
        r.set("first_batch_s", timing.path("first_batch_s"));
        r.put("quantize_s", quantizeSeconds);
        r.set("eval_s", timing.path("total_s"));
        r.set("load_average_start", report.path("load_average_start"));
        r.set("load_average_end", report.path("load_average_end"));
        r.put("finished_at", Sweep.now());
        return r;
    }

    /** {"model", "model_sha256", protocol fields, "kind", "settings": [...], "checks": [...]}. */
    static ObjectNode summary(ObjectNode manifest, Kind kind, List<ObjectNode> results) {
        ObjectNode o = manifest.deepCopy();
        o.put("kind", kind.id());
        ArrayNode settings = o.putArray("settings");
        double floatAlignment = results.getFirst().path("alignment").asDouble();
        for (ObjectNode r : results) {
            ObjectNode row = r.deepCopy();
            row.put("alignment_vs_float", r.path("alignment").asDouble() - floatAlignment);
            settings.add(row);
        }
        o.set("checks", checks(kind, settings));
        return o;
    }

    /** The quality checks (see {@link #ALIGNMENT_POINT}) that the settings present allow to judge. */
    static ArrayNode checks(Kind kind, ArrayNode settings) {
        ArrayNode checks = Sweep.JSON.createArrayNode();
        JsonNode flt = find(settings, SweepSetting.FLOAT), w8 = find(settings, "viditq-w8a8");
        if (flt != null && w8 != null) {
            double drop = flt.path("alignment").asDouble() - w8.path("alignment").asDouble();
            add(checks, "viditq-w8a8 alignment within 1 point of float", String.format(Locale.ROOT, "%.3f vs %.3f (%+.1f points)",
                    w8.path("alignment").asDouble(), flt.path("alignment").asDouble(), -100 * drop), drop <= ALIGNMENT_POINT + 1e-12);
            double bar = kind == Kind.VIDEO ? VIDEO_PSNR_BAR : IMAGE_PSNR_BAR, psnr = number(w8.path("psnr"));
            add(checks, String.format(Locale.ROOT, "viditq-w8a8 PSNR against float >= %.0f dB", bar),
                    String.format(Locale.ROOT, "%.2f dB", psnr), psnr >= bar);
        }
        for (String[] pair : PAIRS) {
            JsonNode vq = find(settings, pair[0]), naive = find(settings, pair[1]);
            if (vq == null || naive == null) continue;
            double pv = number(vq.path("psnr")), pn = number(naive.path("psnr"));
            double av = vq.path("alignment").asDouble(), an = naive.path("alignment").asDouble();
            add(checks, pair[0] + " better than " + pair[1] + " (higher PSNR and alignment at least as high)",
                    String.format(Locale.ROOT, "PSNR %.2f vs %.2f dB, alignment %.3f vs %.3f", pv, pn, av, an), pv > pn && av >= an);
        }
        return checks;
    }

    private static void add(ArrayNode checks, String bar, String value, boolean met) {
        checks.addObject().put("bar", bar).put("value", value).put("met", met);
    }

    static JsonNode find(JsonNode settings, String name) {
        for (JsonNode s : settings) if (s.path("setting").asText().equals(name)) return s;
        return null;
    }

    /** A JSON number, or "Infinity"/"NaN" as Jackson writes them; NaN for null. */
    static double number(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return Double.NaN;
        if (n.isNumber()) return n.asDouble();
        return switch (n.asText()) {
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> Double.NaN;
        };
    }

    // ------------------------------------------------------------------ markdown

    /** The tables a person reads (and docs/RESULTS.md quotes): main figures, per attribute, videos' temporal measures, bars. */
    public static String markdown(JsonNode summary) {
        StringBuilder b = new StringBuilder();
        boolean video = "video".equals(summary.path("kind").asText());
        JsonNode settings = summary.path("settings");
        b.append(String.format(Locale.ROOT, "%s (sha256 %s…): %d %s prompts of the %s split, seed %d, batch %d%n%n",
                summary.path("model").asText(), summary.path("model_sha256").asText().substring(0, Math.min(16, summary.path("model_sha256").asText().length())),
                summary.path("count").asInt(), video ? "video" : "image", summary.path("split").asText(), summary.path("seed").asLong(),
                summary.path("batch").asInt()));
        List<String> head = new ArrayList<>(List.of("setting", "alignment", "Δ float (points)", "PSNR (dB)",
                "per sample: median / p10 (dB)", "forked", "SSIM"));
        if (video) head.addAll(List.of("motion acc.", "min frame PSNR (dB)"));
        head.addAll(List.of("stored bits / weight", "model (MiB)", "of BF16", "resident weights (MiB)", "peak RSS (MiB)", "s/step"));
        table(b, head, settings, s -> {
            List<String> row = new ArrayList<>(List.of(s.path("setting").asText(), f3(s.path("alignment")),
                    s.path("setting").asText().equals(SweepSetting.FLOAT) ? "—" : String.format(Locale.ROOT, "%+.1f", 100 * s.path("alignment_vs_float").asDouble()),
                    f(s.path("psnr"), "%.2f"), f(s.path("psnr_median"), "%.2f") + " / " + f(s.path("psnr_p10"), "%.2f"),
                    forked(s.path("forked")), f(s.path("ssim"), "%.4f")));
            if (video) row.addAll(List.of(f3(s.path("motion_accuracy")), minFramePsnr(s)));
            row.addAll(List.of(f(s.path("stored_bits_per_weight"), "%.2f"), mib(s.path("model_bytes")), f(s.path("ratio_to_bf16"), "%.3f"), mib(s.path("resident_weight_bytes")),
                    mib(s.path("peak_rss_bytes")), f(s.path("sec_per_step"), "%.4f")));
            return row;
        });
        b.append(System.lineSeparator());
        List<String> attributes = new ArrayList<>();
        Iterator<String> it = settings.get(0).path("alignment_by_attribute").fieldNames();
        it.forEachRemaining(attributes::add);
        List<String> attrHead = new ArrayList<>(List.of("setting"));
        attrHead.addAll(attributes);
        table(b, attrHead, settings, s -> {
            List<String> row = new ArrayList<>(List.of(s.path("setting").asText()));
            for (String a : attributes) row.add(f3(s.path("alignment_by_attribute").path(a)));
            return row;
        });
        if (video) {
            b.append(System.lineSeparator());
            table(b, List.of("setting", "trajectory residual (px)", "color drift", "size variation", "background flicker", "track coverage"),
                    settings, s -> {
                        JsonNode t = s.path("temporal");
                        return List.of(s.path("setting").asText(), f(t.path("trajectory_residual_px"), "%.3f"), f(t.path("color_drift"), "%.4f"),
                                f(t.path("size_variation"), "%.4f"), f(t.path("background_flicker"), "%.4f"), f(t.path("track_coverage"), "%.3f"));
                    });
        }
        JsonNode checks = summary.path("checks");
        if (!checks.isEmpty()) {
            b.append(System.lineSeparator());
            table(b, List.of("bar", "measured", "result"), checks,
                    c -> List.of(c.path("bar").asText(), c.path("value").asText(), c.path("met").asBoolean() ? "met" : "**missed**"));
        }
        return b.toString();
    }

    /** "—" (no reference), "0", or the count with the samples' indices, e.g. "2 (#3, #17)". */
    private static String forked(JsonNode forked) {
        if (!forked.isArray()) return "—";
        if (forked.isEmpty()) return "0";
        List<String> at = new ArrayList<>();
        for (JsonNode f : forked) at.add("#" + f.path("index").asInt());
        return forked.size() + " (" + String.join(", ", at) + ")";
    }

    private static void table(StringBuilder b, List<String> head, JsonNode rows, Function<JsonNode, List<String>> cells) {
        b.append("| ").append(String.join(" | ", head)).append(" |").append(System.lineSeparator());
        b.append("|").append(" --- |".repeat(head.size())).append(System.lineSeparator());
        for (JsonNode r : rows) b.append("| ").append(String.join(" | ", cells.apply(r))).append(" |").append(System.lineSeparator());
    }

    private static String minFramePsnr(JsonNode s) {
        JsonNode frames = s.path("psnr_per_frame");
        if (!frames.isArray() || frames.isEmpty()) return "—";
        double min = Double.POSITIVE_INFINITY;
        for (JsonNode f : frames) min = Math.min(min, number(f));
        return String.format(Locale.ROOT, "%.2f", min);
    }

    static String f3(JsonNode n) {
        return f(n, "%.3f");
    }

    static String f(JsonNode n, String format) {
        double v = number(n);
        if (Double.isNaN(v)) return "—";
        if (Double.isInfinite(v)) return v > 0 ? "∞" : "-∞";
        return String.format(Locale.ROOT, format, v);
    }

    static String mib(JsonNode n) {
        double v = number(n);
        return Double.isNaN(v) || v < 0 ? "—" : String.format(Locale.ROOT, "%.2f", v / 1048576.0);
    }
}
