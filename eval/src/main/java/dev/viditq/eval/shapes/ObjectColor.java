package dev.viditq.eval.shapes;

/**
 * The eight object colors, far apart in RGB (the closest pair, orange and yellow, is 110/255 apart) and far from
 * every {@link Background} (the closest pair, white on light gray, is 130/255 apart).
 */
public enum ObjectColor {
    RED("red", 255, 0, 0),
    GREEN("green", 0, 200, 0),
    BLUE("blue", 30, 60, 255),
    YELLOW("yellow", 255, 230, 0),
    MAGENTA("magenta", 230, 0, 230),
    CYAN("cyan", 0, 230, 230),
    WHITE("white", 255, 255, 255),
    ORANGE("orange", 255, 120, 0);

    private final String word;
    private final int[] rgb;

    ObjectColor(String word, int r, int g, int b) {
        this.word = word;
        this.rgb = new int[]{r, g, b};
    }

    public String word() {
        return word;
    }

    /** Channel {@code c} (0 red, 1 green, 2 blue) in 0..255. */
    public int channel(int c) {
        return rgb[c];
    }

    /** The color as floats in [0, 1]. */
    public float[] rgb01() {
        return new float[]{rgb[0] / 255f, rgb[1] / 255f, rgb[2] / 255f};
    }
}
