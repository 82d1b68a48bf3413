package dev.viditq.nn.media;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * A grid of images with optional captions under each, for side-by-side comparisons (FP vs quantized, prompts ×
 * methods). Cells are as large as the largest image; smaller images are centred. Captions are word-wrapped to
 * the cell width and cut to {@code captionLines} lines with an ellipsis.
 *
 * <pre>{@code
 * BufferedImage sheet = new ContactSheet(4).captionLines(2).render(images, captions);
 * MediaWriter.writePng(Path.of("grid.png"), sheet);
 * }</pre>
 */
public final class ContactSheet {
    private final int columns;
    private int padding = 4;
    private int fontSize = 12;
    private int captionLines = 2;
    private Color background = Color.WHITE;
    private Color textColor = Color.BLACK;

    public ContactSheet(int columns) {
        if (columns < 1) throw new IllegalArgumentException("a contact sheet needs at least one column, got " + columns);
        this.columns = columns;
    }

    public ContactSheet padding(int pixels) {
        if (pixels < 0) throw new IllegalArgumentException("padding must be >= 0");
        this.padding = pixels;
        return this;
    }

    public ContactSheet fontSize(int points) {
        if (points < 1) throw new IllegalArgumentException("font size must be positive");
        this.fontSize = points;
        return this;
    }

    public ContactSheet captionLines(int lines) {
        if (lines < 1) throw new IllegalArgumentException("caption lines must be positive");
        this.captionLines = lines;
        return this;
    }

    public ContactSheet colors(Color background, Color text) {
        this.background = background;
        this.textColor = text;
        return this;
    }

    /** The grid without captions. */
    public BufferedImage render(List<BufferedImage> images) {
        return render(images, null);
    }

    /**
     * @param captions one per image (null entries for none), or null for no caption band at all
     */
    public BufferedImage render(List<BufferedImage> images, List<String> captions) {
        if (images.isEmpty()) throw new IllegalArgumentException("a contact sheet needs at least one image");
        if (captions != null && captions.size() != images.size()) {
            throw new IllegalArgumentException(captions.size() + " captions for " + images.size() + " images");
        }
        if (captions != null && !Fonts.available()) captions = null; // a bare server: the grid alone
        int cellW = 0, cellH = 0;
        for (BufferedImage img : images) {
            cellW = Math.max(cellW, img.getWidth());
            cellH = Math.max(cellH, img.getHeight());
        }
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, fontSize);
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        BufferedImage sheet = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        FontMetrics fm = captions == null ? null : sheet.createGraphics().getFontMetrics(font);
        int captionH = captions == null ? 0 : captionLines * fm.getHeight() + padding;
        int width = padding + cols * (cellW + padding);
        int height = padding + rows * (cellH + captionH + padding);
        sheet = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setColor(background);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            if (fm != null) g.setFont(font);
            g.setColor(textColor);
            for (int i = 0; i < images.size(); i++) {
                BufferedImage img = images.get(i);
                int x = padding + (i % cols) * (cellW + padding);
                int y = padding + (i / cols) * (cellH + captionH + padding);
                g.drawImage(img, x + (cellW - img.getWidth()) / 2, y + (cellH - img.getHeight()) / 2, null);
                String caption = captions == null ? null : captions.get(i);
                if (caption != null) drawCaption(g, fm, caption, x, y + cellH + padding, cellW);
            }
        } finally {
            g.dispose();
        }
        return sheet;
    }

    private void drawCaption(Graphics2D g, FontMetrics fm, String text, int x, int top, int width) {
        List<String> lines = wrap(fm, text, width, captionLines);
        for (int l = 0; l < lines.size(); l++) g.drawString(lines.get(l), x, top + l * fm.getHeight() + fm.getAscent());
    }

    /** Greedy word wrap to {@code width} pixels; words longer than a line are cut; the last line gets "…" if text remains. */
    static List<String> wrap(FontMetrics fm, String text, int width, int maxLines) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        String[] words = text.trim().split("\\s+");
        int w = 0;
        while (w < words.length && lines.size() < maxLines) {
            String candidate = line.isEmpty() ? words[w] : line + " " + words[w];
            if (fm.stringWidth(candidate) <= width) {
                line.setLength(0);
                line.append(candidate);
                w++;
            } else if (line.isEmpty()) { // a single word wider than the cell: cut it
                lines.add(fit(fm, words[w], width));
                w++;
            } else {
                lines.add(line.toString());
                line.setLength(0);
            }
        }
        if (!line.isEmpty() && lines.size() < maxLines) lines.add(line.toString());
        if (w < words.length && !lines.isEmpty()) {
            int last = lines.size() - 1;
            lines.set(last, fit(fm, lines.get(last) + "…", width, true));
        }
        return lines;
    }

    private static String fit(FontMetrics fm, String s, int width) {
        return fit(fm, s, width, false);
    }

    /** The longest prefix of {@code s} that fits (keeping a trailing ellipsis when {@code keepEllipsis}). */
    private static String fit(FontMetrics fm, String s, int width, boolean keepEllipsis) {
        if (fm.stringWidth(s) <= width) return s;
        String body = keepEllipsis ? s.substring(0, s.length() - 1) : s;
        String tail = keepEllipsis ? "…" : "";
        for (int n = body.length(); n > 0; n--) {
            String cand = body.substring(0, n) + tail;
            if (fm.stringWidth(cand) <= width) return cand;
        }
        return tail;
    }
}
