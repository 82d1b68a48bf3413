package dev.viditq.eval.shapes;

/**
 * The object shapes. Each is defined inside the unit box [-1, 1]², y pointing down, so that every shape of
 * one {@link Size} has the same bounding box; the renderer scales the box to the object's diameter.
 * Chosen to stay distinguishable at 8 px: a star or heart would blur into a circle there.
 */
public enum Shape {
    CIRCLE("circle"),
    SQUARE("square"),
    /** Isosceles, pointing up: apex at (0, -1), base from (-1, 1) to (1, 1). */
    TRIANGLE("triangle"),
    /** A square turned by 45 degrees. */
    DIAMOND("diamond"),
    /** A plus sign with arms {@value #CROSS_ARM} of the half-width thick. */
    CROSS("cross"),
    /** An annulus whose hole has {@value #RING_HOLE} of the outer radius. */
    RING("ring");

    static final double CROSS_ARM = 0.36;
    static final double RING_HOLE = 0.5;

    private final String word;

    Shape(String word) {
        this.word = word;
    }

    /** The caption word. */
    public String word() {
        return word;
    }

    /**
     * The shape's horizontal extent at height {@code v} of the unit box, as closed intervals written to
     * {@code out} ([lo0, hi0, lo1, hi1]); returns how many (0 to 2). Agrees with {@link #contains}: the renderer
     * uses spans because counting samples per interval is much faster than testing each.
     */
    public int spans(double v, double[] out) {
        double av = Math.abs(v);
        if (av > 1) return 0;
        switch (this) {
            case CIRCLE -> { return symmetric(Math.sqrt(1 - v * v), out); }
            case SQUARE -> { return symmetric(1, out); }
            case TRIANGLE -> { return symmetric((v + 1) / 2, out); }
            case DIAMOND -> { return symmetric(1 - av, out); }
            case CROSS -> { return symmetric(av <= CROSS_ARM ? 1 : CROSS_ARM, out); }
            case RING -> {
                double outer = Math.sqrt(1 - v * v);
                if (av >= RING_HOLE) return symmetric(outer, out);
                double inner = Math.sqrt(RING_HOLE * RING_HOLE - v * v);
                out[0] = -outer;
                out[1] = -inner;
                out[2] = inner;
                out[3] = outer;
                return 2;
            }
            default -> throw new AssertionError(this);
        }
    }

    private static int symmetric(double halfWidth, double[] out) {
        out[0] = -halfWidth;
        out[1] = halfWidth;
        return 1;
    }

    /** Whether the point (u, v) of the unit box lies inside the shape. */
    public boolean contains(double u, double v) {
        double au = Math.abs(u), av = Math.abs(v);
        return switch (this) {
            case CIRCLE -> u * u + v * v <= 1;
            case SQUARE -> au <= 1 && av <= 1;
            case TRIANGLE -> v <= 1 && au <= (v + 1) / 2;
            case DIAMOND -> au + av <= 1;
            case CROSS -> (au <= CROSS_ARM && av <= 1) || (av <= CROSS_ARM && au <= 1);
            case RING -> {
                double r2 = u * u + v * v;
                yield r2 <= 1 && r2 >= RING_HOLE * RING_HOLE;
            }
        };
    }
}
