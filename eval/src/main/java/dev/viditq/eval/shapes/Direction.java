package dev.viditq.eval.shapes;

/** Directions of motion in video scenes, in image coordinates (y grows downward). */
public enum Direction {
    LEFT(-1, 0, "left", "to the left"),
    RIGHT(1, 0, "right", "to the right"),
    UP(0, -1, "up", "upward"),
    DOWN(0, 1, "down", "downward");

    private final int dx, dy;
    private final String word, phrase;

    Direction(int dx, int dy, String word, String phrase) {
        this.dx = dx;
        this.dy = dy;
        this.word = word;
        this.phrase = phrase;
    }

    public int dx() { return dx; }
    public int dy() { return dy; }

    /** "left", used as in "moving left". */
    public String word() { return word; }

    /** "to the left", used as in "moves to the left". */
    public String phrase() { return phrase; }

    /** The direction whose axis dominates the velocity (vx, vy); ties go to the horizontal axis. */
    public static Direction of(double vx, double vy) {
        if (Math.abs(vx) >= Math.abs(vy)) return vx < 0 ? LEFT : RIGHT;
        return vy < 0 ? UP : DOWN;
    }
}
