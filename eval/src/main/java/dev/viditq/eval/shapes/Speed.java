package dev.viditq.eval.shapes;

/** Speeds of motion in pixels per frame: a slow object travels 6 px over 16 frames, a fast one 15 px. */
public enum Speed {
    SLOW(0.4, "slowly"),
    FAST(1.0, "quickly", "fast");

    /** Measured speeds at or above this read as {@link #FAST}: halfway between the two. */
    public static final double FAST_THRESHOLD = (SLOW.pixelsPerFrame + FAST.pixelsPerFrame) / 2;

    private final double pixelsPerFrame;
    private final String[] words;

    Speed(double pixelsPerFrame, String... words) {
        this.pixelsPerFrame = pixelsPerFrame;
        this.words = words;
    }

    public double pixelsPerFrame() { return pixelsPerFrame; }

    /** Caption adverbs; the first is the plain one. */
    public String[] words() { return words.clone(); }

    public static Speed of(double pixelsPerFrame) {
        return pixelsPerFrame >= FAST_THRESHOLD ? FAST : SLOW;
    }
}
