package dev.viditq.eval.run;

import dev.viditq.eval.metrics.AlignmentScore;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.nn.media.ContactSheet;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Contact sheets of generated samples, upscaled (nearest neighbour: 32×32 outputs are too small to see) and
 * captioned with the prompt and what the analyzer made of it.
 */
public final class Sheets {
    /** 32 px outputs become 128 px cells. */
    public static final int SCALE = 4;
    private static final int FONT = 11, IMAGE_COLUMNS = 4, VIDEO_COLUMNS = 2, IMAGE_CAPTION_LINES = 10, VIDEO_CAPTION_LINES = 3;

    private Sheets() {}

    /**
     * "#3 7/7 ok: a large red circle ..." or "#4 5/7 missed color, size: ...": the sample's alignment when scored,
     * its PSNR to the reference when measured.
     *
     * @param score null when there is no ground truth
     * @param psnr  NaN when there is no reference
     */
    public static String caption(Sample s, AlignmentScore score, double psnr) {
        StringBuilder b = new StringBuilder("#").append(s.prompt().index());
        if (score != null) {
            b.append(' ').append(score.hits()).append('/').append(score.total());
            String missed = ShapesScores.missed(score);
            b.append(missed.isEmpty() ? " ok" : " missed " + missed);
        }
        if (!Double.isNaN(psnr)) b.append(String.format(Locale.ROOT, " %.1f dB", psnr));
        return b.append(": ").append(s.prompt().caption()).toString();
    }

    /** Images in a 4-column grid; videos as their first, middle and last frames side by side, 2 columns. */
    public static BufferedImage sheet(List<Sample> samples, List<String> captions) {
        List<BufferedImage> cells = new ArrayList<>(samples.size());
        boolean images = samples.getFirst().isImage();
        for (Sample s : samples) cells.add(images ? upscale(s.image()) : keyFrames(s.video()));
        return grid(images).render(cells, captions);
    }

    /** Videos only: one grid per frame, for an animated GIF of all the samples at once. */
    public static List<BufferedImage> animatedGrid(List<Sample> samples, List<String> captions) {
        int frames = samples.getFirst().video().length();
        List<BufferedImage> out = new ArrayList<>(frames);
        ContactSheet sheet = new ContactSheet(IMAGE_COLUMNS).fontSize(FONT).captionLines(IMAGE_CAPTION_LINES);
        for (int t = 0; t < frames; t++) {
            List<BufferedImage> cells = new ArrayList<>(samples.size());
            for (Sample s : samples) cells.add(upscale(s.video().frame(t)));
            out.add(sheet.render(cells, captions));
        }
        return out;
    }

    private static ContactSheet grid(boolean images) {
        return images ? new ContactSheet(IMAGE_COLUMNS).fontSize(FONT).captionLines(IMAGE_CAPTION_LINES)
                : new ContactSheet(VIDEO_COLUMNS).fontSize(FONT).captionLines(VIDEO_CAPTION_LINES);
    }

    /** First, middle and last frame, left to right, a 2 px gray gap between them. */
    static BufferedImage keyFrames(RgbVideo video) {
        int[] picks = {0, video.length() / 2, video.length() - 1};
        int cell = video.width() * SCALE, gap = 2;
        BufferedImage out = new BufferedImage(picks.length * cell + (picks.length - 1) * gap, video.height() * SCALE,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.GRAY);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            for (int i = 0; i < picks.length; i++) g.drawImage(upscale(video.frame(picks[i])), i * (cell + gap), 0, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** Nearest-neighbour upscale by {@link #SCALE}, values rounded to 8 bits. */
    public static BufferedImage upscale(RgbImage img) {
        BufferedImage b = new BufferedImage(img.width() * SCALE, img.height() * SCALE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < b.getHeight(); y++) {
            for (int x = 0; x < b.getWidth(); x++) {
                int sx = x / SCALE, sy = y / SCALE;
                b.setRGB(x, y, (u8(img.get(sx, sy, 0)) << 16) | (u8(img.get(sx, sy, 1)) << 8) | u8(img.get(sx, sy, 2)));
            }
        }
        return b;
    }

    private static int u8(float v) {
        return Math.round(Math.clamp(v, 0f, 1f) * 255f);
    }
}
