package dev.viditq.eval.shapes;

/**
 * The nine cells of a 3×3 grid over the canvas. Cell centers sit at 8, 16 and 24 px (not at the thirds of the
 * canvas) so that a large object in a corner cell still fits inside the 32 px frame; a point belongs to the
 * cell whose center is nearest along each axis, i.e. the borders lie at 12 and 20 px.
 */
public enum Position {
    TOP_LEFT(0, 0, "in the top left", "in the top left corner"),
    TOP(0, 1, "at the top", "at the top center"),
    TOP_RIGHT(0, 2, "in the top right", "in the top right corner"),
    LEFT(1, 0, "on the left", "at the left"),
    CENTER(1, 1, "in the center", "at the center", "in the middle"),
    RIGHT(1, 2, "on the right", "at the right"),
    BOTTOM_LEFT(2, 0, "in the bottom left", "in the bottom left corner"),
    BOTTOM(2, 1, "at the bottom", "at the bottom center"),
    BOTTOM_RIGHT(2, 2, "in the bottom right", "in the bottom right corner");

    /** Pixel coordinate of the centers of columns (and rows) 0, 1, 2. */
    public static final double[] CENTERS = {8, 16, 24};

    private final int row, col;
    private final String[] phrases;

    Position(int row, int col, String... phrases) {
        this.row = row;
        this.col = col;
        this.phrases = phrases;
    }

    public int row() { return row; }
    public int col() { return col; }
    public double centerX() { return CENTERS[col]; }
    public double centerY() { return CENTERS[row]; }

    /** Caption phrases with their preposition; the first is the plain one. */
    public String[] phrases() { return phrases.clone(); }

    public static Position of(int row, int col) {
        return values()[row * 3 + col];
    }

    /** The cell containing the pixel-space point (x, y). */
    public static Position at(double x, double y) {
        return of(index(y), index(x));
    }

    private static int index(double coordinate) {
        return coordinate < 12 ? 0 : coordinate < 20 ? 1 : 2;
    }

    /** Whether two cells are neighbours (sharing an edge or a corner); objects in neighbouring cells would touch. */
    public boolean touches(Position other) {
        return Math.abs(row - other.row) <= 1 && Math.abs(col - other.col) <= 1;
    }
}
