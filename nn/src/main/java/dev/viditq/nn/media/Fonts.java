package dev.viditq.nn.media;

import java.awt.Font;
import java.awt.image.BufferedImage;

/**
 * Whether this JVM can measure and draw text. A headless server without fontconfig or fonts (such as a bare GPU
 * machine running the carried runtime) throws from the first font lookup ("Fontconfig head is null"); pictures with
 * text then degrade (contact sheets without captions, no heat maps) and say so once on stderr, instead of failing
 * the evaluation or analysis that asked for them.
 */
public final class Fonts {
    private static volatile Boolean available;

    private Fonts() {}

    public static boolean available() {
        Boolean known = available;
        if (known != null) return known;
        synchronized (Fonts.class) {
            if (available == null) {
                try {
                    new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics()
                            .getFontMetrics(new Font(Font.SANS_SERIF, Font.PLAIN, 12)).stringWidth("x");
                    available = true;
                } catch (RuntimeException | LinkageError e) {
                    System.err.println("[viditq] no usable fonts in this JVM (" + e.getMessage() + "): pictures are drawn without text");
                    available = false;
                }
            }
            return available;
        }
    }
}
