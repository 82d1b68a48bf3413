package dev.viditq.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.SafeOutput;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./viditq report}: one self-contained HTML page (every image embedded as a data: URI) over sweep run
 * directories — per run the metric tables and bars of {@link SweepTable}, bar charts of alignment and PSNR per
 * setting, the plots found in the run directory (*.png at its top level and under plots/), the first prompts of
 * float beside every setting (same prompts, same seeds) and every setting's contact sheet; then every *.png of the
 * given sensitivity directories (heat maps).
 */
public final class SweepReport {
    /**
     * @param runs        sweep run directories (each with summary.json)
     * @param sensitivity directories whose *.png files are embedded (searched three levels deep); may be empty
     * @param rows        prompts shown side by side
     */
    public record Request(List<Path> runs, List<Path> sensitivity, Path out, int rows) {
        public Request {
            runs = List.copyOf(runs);
            sensitivity = List.copyOf(sensitivity);
            if (runs.isEmpty() && sensitivity.isEmpty()) throw new IllegalArgumentException("give at least one --runs or --sensitivity directory");
            if (rows < 1) throw new IllegalArgumentException("--rows must be positive, got " + rows);
        }
    }

    /** What was written. */
    public record Written(Path file, long bytes, int runs, int images) {}

    private final StringBuilder html = new StringBuilder();
    private int images;

    private SweepReport() {}

    public static Written write(Request req) {
        List<JsonNode> summaries = new ArrayList<>();
        for (Path run : req.runs()) summaries.add(readSummary(run));
        for (Path dir : req.sensitivity()) {
            if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": no such sensitivity directory");
        }
        SweepReport r = new SweepReport();
        r.page(req, summaries);
        try {
            SafeOutput.write(req.out(), tmp -> Files.writeString(tmp, r.html));
            return new Written(req.out(), Files.size(req.out()), summaries.size(), r.images);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + req.out() + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readSummary(Path run) {
        if (!Files.isDirectory(run)) throw new IllegalArgumentException(run + ": no such run directory");
        Path file = run.resolve(Sweep.SUMMARY);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(run + ": no " + Sweep.SUMMARY + " (not a finished ./viditq sweep run directory)");
        }
        return Sweep.readJson(file);
    }

    // ------------------------------------------------------------------ page

    private void page(Request req, List<JsonNode> summaries) {
        html.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>viditq quantization report</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1600px;color:#222}")
                .append("table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px;text-align:right}")
                .append("th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}")
                .append(".met{color:#0a0;font-weight:bold}.missed{color:#c00;font-weight:bold}")
                .append("img.px{image-rendering:pixelated}table.side td{text-align:center;vertical-align:top;font-size:11px}")
                .append("table.side td.caption{text-align:left;max-width:260px}figure{display:inline-block;margin:.5em}")
                .append("figcaption{font-size:12px;color:#555}code{font-size:12px}</style></head><body>\n")
                .append("<h1>Quantization report</h1>\n<p>Made by <code>./viditq report</code> at ").append(Instant.now())
                .append(" from ").append(summaries.size()).append(" sweep run(s)")
                .append(req.sensitivity().isEmpty() ? "" : " and " + req.sensitivity().size() + " sensitivity director(ies)").append(".</p>\n");
        for (int i = 0; i < summaries.size(); i++) run(req.runs().get(i), summaries.get(i), req.rows());
        for (Path dir : req.sensitivity()) sensitivity(dir);
        html.append("</body></html>\n");
    }

    private void run(Path dir, JsonNode s, int rows) {
        boolean video = "video".equals(s.path("kind").asText());
        String model = Path.of(s.path("model").asText()).getFileName().toString();
        html.append("<h2>").append(esc(model)).append(" (").append(video ? "video" : "image").append(")</h2>\n<p><code>")
                .append(esc(s.path("model").asText())).append("</code>, weights sha256 <code>").append(esc(s.path("model_sha256").asText()))
                .append("</code><br>").append(s.path("count").asInt()).append(" prompts of the Shapes ").append(esc(s.path("split").asText()))
                .append(" split, seed ").append(s.path("seed").asLong()).append(", batch ").append(s.path("batch").asInt())
                .append(", calibration ").append(s.path("calibration_count").asInt()).append(" prompts; run directory <code>")
                .append(esc(dir.toString())).append("</code></p>\n");
        markdownTables(SweepTable.markdown(s));
        charts(s, video);
        plots(dir);
        sideBySide(dir, s.path("settings"), rows, video);
        contactSheets(dir, s.path("settings"));
    }

    /** The markdown tables of {@link SweepTable#markdown} as HTML tables (one source for both). */
    private void markdownTables(String md) {
        boolean inTable = false;
        for (String line : md.split("\\R")) {
            if (!line.startsWith("|")) {
                if (inTable) html.append("</table>\n");
                inTable = false;
                continue;
            }
            String[] cells = line.substring(1, line.length() - 1).split("\\|");
            if (cells.length > 0 && cells[0].strip().equals("---")) continue;
            if (!inTable) {
                html.append("<table>");
                row("th", cells);
                inTable = true;
            } else row("td", cells);
        }
        if (inTable) html.append("</table>\n");
    }

    private void row(String tag, String[] cells) {
        html.append("<tr>");
        for (String c : cells) {
            String t = c.strip();
            String cls = t.equals("met") ? " class=\"met\"" : t.equals("**missed**") ? " class=\"missed\"" : "";
            html.append('<').append(tag).append(cls).append('>').append(esc(t.replace("**", ""))).append("</").append(tag).append('>');
        }
        html.append("</tr>\n");
    }

    private void charts(JsonNode s, boolean video) {
        List<String> names = new ArrayList<>(), quantized = new ArrayList<>();
        List<Double> alignment = new ArrayList<>(), psnr = new ArrayList<>();
        for (JsonNode r : s.path("settings")) {
            names.add(r.path("setting").asText());
            alignment.add(SweepTable.number(r.path("alignment")));
            double p = SweepTable.number(r.path("psnr"));
            if (!Double.isNaN(p)) {
                quantized.add(r.path("setting").asText());
                psnr.add(Double.isInfinite(p) ? 99.0 : p);
            }
        }
        html.append("<div>");
        image(BarCharts.png("alignment", "caption alignment", names, alignment, SweepTable.number(s.path("settings").get(0).path("alignment")),
                "float"), "image/png", "alignment per setting", "");
        if (!quantized.isEmpty()) {
            double bar = video ? SweepTable.VIDEO_PSNR_BAR : SweepTable.IMAGE_PSNR_BAR;
            image(BarCharts.png("PSNR against float", "dB", quantized, psnr, bar, String.format(Locale.ROOT, "bar %.0f dB", bar)),
                    "image/png", "PSNR against float per setting", "");
        }
        html.append("</div>\n");
    }

    /** *.png at the run directory's top level and under plots/. */
    private void plots(Path dir) {
        List<Path> pngs = new ArrayList<>(pngs(dir, 1));
        if (Files.isDirectory(dir.resolve("plots"))) pngs.addAll(pngs(dir.resolve("plots"), 3));
        if (pngs.isEmpty()) return;
        html.append("<h3>Plots</h3>\n");
        for (Path p : pngs) figure(p, dir.relativize(p).toString(), "");
    }

    /** The first prompts, float in the first column and every setting beside it. */
    private void sideBySide(Path dir, JsonNode settings, int rows, boolean video) {
        List<String> names = new ArrayList<>();
        Map<String, Map<Integer, String[]>> tables = new HashMap<>();
        for (JsonNode r : settings) {
            String name = r.path("setting").asText();
            names.add(name);
            tables.put(name, samplesTable(dir.resolve(name)));
        }
        Map<Integer, String[]> reference = tables.get(names.getFirst());
        if (reference.isEmpty()) return;
        html.append("<h3>Float beside every setting (same prompts, same seeds)</h3>\n<p>Each cell: the sample")
                .append(video ? " (animated)" : "").append(", analyzer hits/total and PSNR against float.</p>\n<table class=\"side\"><tr><th>prompt</th>");
        for (String n : names) html.append("<th>").append(esc(n)).append("</th>");
        html.append("</tr>\n");
        reference.keySet().stream().sorted().limit(rows).forEach(index -> {
            String[] ref = reference.get(index);
            html.append("<tr><td class=\"caption\">#").append(index).append(": ").append(esc(ref[6])).append("</td>");
            for (String n : names) {
                String[] row = tables.get(n).get(index);
                Path sample = dir.resolve(n).resolve("samples").resolve(String.format(Locale.ROOT, "%03d.%s", index, video ? "gif" : "png"));
                html.append("<td>");
                if (Files.isRegularFile(sample)) {
                    image(read(sample), video ? "image/gif" : "image/png", n + " #" + index, "class=\"px\" width=\"96\" height=\"96\"");
                }
                if (row != null) {
                    html.append("<br>").append(esc(row[1])).append('/').append(esc(row[2]));
                    if (!row[4].isEmpty()) html.append(" · ").append(esc(row[4])).append(" dB");
                }
                html.append("</td>");
            }
            html.append("</tr>\n");
        });
        html.append("</table>\n");
    }

    /** samples.tsv: index → {index, hits, total, missed, psnr, ssim, caption}. */
    private static Map<Integer, String[]> samplesTable(Path settingDir) {
        Map<Integer, String[]> rows = new HashMap<>();
        Path tsv = settingDir.resolve("samples.tsv");
        if (!Files.isRegularFile(tsv)) return rows;
        try {
            List<String> lines = Files.readAllLines(tsv);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split("\t", -1);
                if (f.length >= 7) rows.put(Integer.parseInt(f[0]), f);
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalArgumentException(tsv + ": cannot read the per-sample table: " + e.getMessage(), e);
        }
        return rows;
    }

    private void contactSheets(Path dir, JsonNode settings) {
        html.append("<details><summary>Contact sheets of every setting</summary>\n");
        for (JsonNode r : settings) {
            Path sheet = dir.resolve(r.path("setting").asText()).resolve("contact-sheet.png");
            if (Files.isRegularFile(sheet)) figure(sheet, r.path("setting").asText(), "style=\"max-width:760px\"");
        }
        html.append("</details>\n");
    }

    private void sensitivity(Path dir) {
        html.append("<h2>Sensitivity: <code>").append(esc(dir.toString())).append("</code></h2>\n");
        List<Path> pngs = pngs(dir, 3);
        if (pngs.isEmpty()) html.append("<p>No PNG plots in this directory.</p>\n");
        for (Path p : pngs) figure(p, dir.relativize(p).toString(), "style=\"max-width:760px\"");
    }

    private static List<Path> pngs(Path dir, int depth) {
        try (Stream<Path> s = Files.walk(dir, depth)) {
            return s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ elements

    private void figure(Path png, String caption, String attributes) {
        html.append("<figure>");
        image(read(png), "image/png", caption, attributes);
        html.append("<figcaption>").append(esc(caption)).append("</figcaption></figure>\n");
    }

    private void image(byte[] bytes, String mime, String alt, String attributes) {
        images++;
        html.append("<img alt=\"").append(esc(alt)).append("\" ").append(attributes).append(" src=\"data:").append(mime).append(";base64,")
                .append(Base64.getEncoder().encodeToString(bytes)).append("\">");
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (Iterator<Integer> it = s.codePoints().iterator(); it.hasNext(); ) {
            int c = it.next();
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.appendCodePoint(c);
            }
        }
        return b.toString();
    }
}
