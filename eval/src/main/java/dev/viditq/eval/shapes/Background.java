package dev.viditq.eval.shapes;

/** Background colors: two dark, one bluish dark and one light; none is close to an {@link ObjectColor}. */
public enum Background {
    BLACK("black", 0, 0, 0),
    DARK_GRAY("dark gray", 64, 64, 64),
    DARK_BLUE("dark blue", 20, 25, 90),
    LIGHT_GRAY("light gray", 180, 180, 180);

    private final String words;
    private final int[] rgb;

    Background(String words, int r, int g, int b) {
        this.words = words;
        this.rgb = new int[]{r, g, b};
    }

    /** The caption words, e.g. "dark blue". */
    public String words() {
        return words;
    }

    /** Channel {@code c} (0 red, 1 green, 2 blue) in 0..255. */
    public int channel(int c) {
        return rgb[c];
    }

    public float[] rgb01() {
        return new float[]{rgb[0] / 255f, rgb[1] / 255f, rgb[2] / 255f};
    }
}
