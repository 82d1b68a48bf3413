package dev.viditq.eval.mp;

import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Heat maps of a sensitivity run (plain java.awt, headless): one PNG per candidate and metric, rows the groups
 * judged by that metric (all groups for the MSE), columns the timestep ranges, each cell coloured by the entry's
 * metric_delta (diverging: red worse than float, blue better) or MSE (log scale) and labelled with its value. The
 * maps of one metric share their colour scale across candidates, so W4 and W8 can be compared by eye.
 */
final class SensitivityHeatmap {
    private static final int CELL_W = 96, CELL_H = 24, LABEL_W = 190, TOP = 70, BAR_W = 18, BAR_GAP = 24, BAR_LABEL_W = 80;
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 13);

    private SensitivityHeatmap() {}

    static List<Path> writeAll(Path dir, List<SensitivityGroups.Group> groups, List<Sensitivity.Candidate> candidates,
                               List<Sensitivity.Range> ranges, List<SensitivityEntry> entries, ObjectNode header) throws IOException {
        System.setProperty("java.awt.headless", "true");
        if (!dev.viditq.nn.media.Fonts.available()) return List.of(); // labels are the point of a heat map: none without fonts
        String model = Path.of(header.get("model").asText()).getFileName().toString();
        Map<String, List<SensitivityGroups.Group>> byMetric = new LinkedHashMap<>();
        for (String metric : List.of("alignment", "temporal", "fidelity")) {
            List<SensitivityGroups.Group> rows = groups.stream().filter(g -> g.kind().metric().equals(metric)).toList();
            if (!rows.isEmpty()) byMetric.put(metric, rows);
        }
        byMetric.put("mse", groups);
        Map<String, SensitivityEntry> index = new LinkedHashMap<>();
        for (SensitivityEntry e : entries) index.put(e.key(), e);
        List<Path> files = new ArrayList<>();
        for (var m : byMetric.entrySet()) {
            String metric = m.getKey();
            double[] scale = scale(metric, entries);
            for (Sensitivity.Candidate c : candidates) {
                double[][] values = new double[m.getValue().size()][ranges.size()];
                for (int g = 0; g < values.length; g++) {
                    for (Sensitivity.Range r : ranges) {
                        SensitivityEntry e = index.get(SensitivityEntry.key(m.getValue().get(g).name(), r.index(), c.name()));
                        values[g][r.index()] = e == null ? Double.NaN : metric.equals("mse") ? e.mse() : e.metricDelta();
                    }
                }
                String title = model + "  " + c.name() + "  " + label(metric) + "  (" + header.get("count").asInt() + " "
                        + header.get("kind").asText() + "s, " + header.get("steps").asInt() + " steps)";
                BufferedImage img = draw(title, m.getValue(), ranges, header, values, metric.equals("mse"), scale);
                Path file = dir.resolve("heatmap-" + c.name() + "-" + metric + ".png");
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(img, "png", png);
                SensitivityStore.writeAtomically(file, png.toByteArray());
                files.add(file);
            }
        }
        return files;
    }

    static String label(String metric) {
        return switch (metric) {
            case "alignment" -> "cross-attn: alignment loss (float − quantized)";
            case "temporal" -> "temporal attn: inconsistency increase over float";
            case "fidelity" -> "self-attn / MLP: 1 − SSIM to float";
            default -> "all groups: output MSE to float";
        };
    }

    /** {lo, hi} of the colour scale: ±max|delta| for deltas, log10 of the positive MSE range for MSE. */
    private static double[] scale(String metric, List<SensitivityEntry> entries) {
        if (metric.equals("mse")) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (SensitivityEntry e : entries) {
                if (e.mse() > 0 && Double.isFinite(e.mse())) {
                    lo = Math.min(lo, Math.log10(e.mse()));
                    hi = Math.max(hi, Math.log10(e.mse()));
                }
            }
            if (!Double.isFinite(lo)) return new double[]{-8, -7};
            return new double[]{Math.floor(lo), Math.max(Math.ceil(hi), Math.floor(lo) + 1)};
        }
        double max = 0;
        for (SensitivityEntry e : entries) if (e.metric().equals(metric) && Double.isFinite(e.metricDelta())) max = Math.max(max, Math.abs(e.metricDelta()));
        if (max == 0) max = 1e-3;
        return new double[]{-max, max};
    }

    private static BufferedImage draw(String title, List<SensitivityGroups.Group> rows, List<Sensitivity.Range> ranges, ObjectNode header,
                                      double[][] values, boolean log, double[] scale) {
        int gridW = CELL_W * ranges.size(), gridH = CELL_H * rows.size(), barH = Math.max(gridH, 5 * CELL_H);
        int width = LABEL_W + gridW + BAR_GAP + BAR_W + BAR_LABEL_W, height = TOP + barH + 30;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(TITLE);
        g.drawString(title, 8, 18);
        g.setFont(FONT);
        FontMetrics fm = g.getFontMetrics();
        for (Sensitivity.Range r : ranges) {
            int x = LABEL_W + r.index() * CELL_W;
            var t = header.get("ranges").get(r.index()).get("timesteps");
            centre(g, fm, "steps " + r.first() + "–" + (r.end() - 1), x, TOP - 26, CELL_W);
            centre(g, fm, String.format(Locale.ROOT, "t %.0f–%.0f", t.get(1).asDouble(), t.get(0).asDouble()), x, TOP - 10, CELL_W);
        }
        for (int row = 0; row < rows.size(); row++) {
            int y = TOP + row * CELL_H;
            g.setColor(Color.BLACK);
            g.drawString(rows.get(row).name(), 8, y + CELL_H / 2 + fm.getAscent() / 2 - 1);
            for (int col = 0; col < ranges.size(); col++) {
                double v = values[row][col];
                int x = LABEL_W + col * CELL_W;
                Color fill = Double.isNaN(v) ? new Color(0xDDDDDD) : colour(v, log, scale);
                g.setColor(fill);
                g.fillRect(x, y, CELL_W, CELL_H);
                g.setColor(luminance(fill) < 0.5 ? Color.WHITE : Color.BLACK);
                centre(g, fm, Double.isNaN(v) ? "—" : format(v, log), x, y + CELL_H / 2 + fm.getAscent() / 2 - 1, CELL_W);
            }
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawRect(LABEL_W, TOP, gridW, gridH);
        colourBar(g, fm, LABEL_W + gridW + BAR_GAP, TOP, barH, log, scale);
        g.dispose();
        return img;
    }

    private static void colourBar(Graphics2D g, FontMetrics fm, int x, int y, int h, boolean log, double[] scale) {
        for (int i = 0; i < h; i++) {
            double f = 1 - i / (double) (h - 1);
            double v = scale[0] + f * (scale[1] - scale[0]);
            g.setColor(colour(log ? Math.pow(10, v) : v, log, scale));
            g.drawLine(x, y + i, x + BAR_W, y + i);
        }
        g.setColor(Color.BLACK);
        g.drawRect(x, y, BAR_W, h);
        double[] ticks = log ? new double[]{scale[1], (scale[0] + scale[1]) / 2, scale[0]} : new double[]{scale[1], 0, scale[0]};
        for (int i = 0; i < ticks.length; i++) {
            int ty = y + (int) Math.round((1 - (ticks[i] - scale[0]) / (scale[1] - scale[0])) * (h - 1));
            g.drawLine(x + BAR_W, ty, x + BAR_W + 4, ty);
            String text = log ? String.format(Locale.ROOT, "1e%.1f", ticks[i]).replace(".0", "") : format(ticks[i], false);
            g.drawString(text, x + BAR_W + 6, ty + fm.getAscent() / 2 - 1);
        }
        if (!log) {
            g.drawString("worse", x - 2, y - 8);
            g.drawString("better", x - 2, y + h + fm.getAscent() + 2);
        }
    }

    /** Deltas: white at 0, red up to +max, blue down to −max. MSE: white to dark red over the log10 range. */
    static Color colour(double v, boolean log, double[] scale) {
        if (log) {
            double f = v <= 0 ? 0 : (Math.log10(v) - scale[0]) / (scale[1] - scale[0]);
            return ramp(Math.max(0, Math.min(1, f)), new Color(0xFFF5F0), new Color(0xFB6A4A), new Color(0x67000D));
        }
        double f = Math.max(-1, Math.min(1, v / scale[1]));
        if (f >= 0) return ramp(f, Color.WHITE, new Color(0xF4A582), new Color(0xB2182B));
        return ramp(-f, Color.WHITE, new Color(0x92C5DE), new Color(0x2166AC));
    }

    private static Color ramp(double f, Color a, Color b, Color c) {
        return f < 0.5 ? mix(a, b, f * 2) : mix(b, c, (f - 0.5) * 2);
    }

    private static Color mix(Color a, Color b, double t) {
        return new Color((int) Math.round(a.getRed() + t * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + t * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + t * (b.getBlue() - a.getBlue())));
    }

    private static double luminance(Color c) {
        return (0.299 * c.getRed() + 0.587 * c.getGreen() + 0.114 * c.getBlue()) / 255;
    }

    private static String format(double v, boolean log) {
        if (log) return v == 0 ? "0" : String.format(Locale.ROOT, "%.1e", v);
        if (v == 0) return "0";
        return Math.abs(v) >= 0.01 ? String.format(Locale.ROOT, "%+.3f", v) : String.format(Locale.ROOT, "%+.1e", v);
    }

    private static void centre(Graphics2D g, FontMetrics fm, String text, int x, int baseline, int width) {
        g.drawString(text, x + (width - fm.stringWidth(text)) / 2, baseline);
    }
}
