package dev.viditq.eval.metrics;

import java.util.Locale;

/** The attributes a Shapes caption states, scored separately by {@link CaptionAlignment}. */
public enum Attribute {
    SHAPE, COLOR, SIZE,
    /** Grid cell (images only: video captions do not name a position). */
    POSITION,
    BACKGROUND,
    /** Number of objects. */
    COUNT,
    /** Motion direction (videos only). */
    DIRECTION,
    /** Motion speed (videos only). */
    SPEED;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
