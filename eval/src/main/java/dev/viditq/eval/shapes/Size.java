package dev.viditq.eval.shapes;

/** Object sizes, as the side of the bounding box in pixels (the same for every shape). */
public enum Size {
    SMALL(8, "small", "little"),
    LARGE(14, "large", "big");

    /** Diameters at or above this many pixels read as {@link #LARGE}: halfway between the two sizes. */
    public static final double LARGE_THRESHOLD = (SMALL.diameter + LARGE.diameter) / 2.0;

    private final int diameter;
    private final String[] words;

    Size(int diameter, String... words) {
        this.diameter = diameter;
        this.words = words;
    }

    public int diameter() {
        return diameter;
    }

    /** Caption synonyms; the first is the plain one. */
    public String[] words() {
        return words.clone();
    }

    public static Size ofDiameter(double diameter) {
        return diameter >= LARGE_THRESHOLD ? LARGE : SMALL;
    }
}
