package dev.viditq.eval.shapes;

/**
 * Template matching: compares an object's coverage map with every shape rendered by the same {@link Renderer},
 * at the object's centroid and at diameters around the one its area implies, and keeps the best soft
 * intersection-over-union. Comparing against the renderer itself makes clean renders match exactly.
 */
final class ShapeMatcher {
    /** Coverage below this counts as zero on both sides, so background noise does not dilute the overlap. */
    static final float COVERAGE_FLOOR = 0.15f;
    /** Diameters tried, relative to the one the area implies for each shape. */
    private static final double[] SCALES = {0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15};
    private static final double MIN_DIAMETER = 3, MAX_DIAMETER = 32;

    /** Per shape: its area as a fraction of its bounding box, and its centroid's offset from the box center (unit box). */
    private static final double[] FILL = new double[Shape.values().length];
    private static final double[] CENTROID_U = new double[Shape.values().length];
    private static final double[] CENTROID_V = new double[Shape.values().length];

    static {
        int n = 400;
        for (Shape s : Shape.values()) {
            long inside = 0;
            double su = 0, sv = 0;
            for (int i = 0; i < n; i++) {
                double v = -1 + (i + 0.5) * 2 / n;
                for (int j = 0; j < n; j++) {
                    double u = -1 + (j + 0.5) * 2 / n;
                    if (s.contains(u, v)) {
                        inside++;
                        su += u;
                        sv += v;
                    }
                }
            }
            FILL[s.ordinal()] = inside / (double) (n * n);
            CENTROID_U[s.ordinal()] = su / inside;
            CENTROID_V[s.ordinal()] = sv / inside;
        }
    }

    private ShapeMatcher() {}

    /** The best template: shape, box side, score, and the box center that puts its centroid on the object's. */
    record Match(Shape shape, double diameter, double score, double centerX, double centerY) {}

    /**
     * @param coverage the object's coverage per pixel, width×height row-major, zero outside {@code box}
     * @param box      {x0, y0, x1, y1}: inclusive pixel bounds of the object's nonzero coverage
     * @param area     sum of {@code coverage}
     * @param cx       coverage-weighted centroid
     */
    static Match match(float[] coverage, int width, int height, int[] box, double area, double cx, double cy) {
        float[] observed = floored(coverage);
        float[] template = new float[coverage.length];
        Match best = null;
        for (Shape s : Shape.values()) {
            double implied = Math.sqrt(area / FILL[s.ordinal()]);
            for (double scale : SCALES) {
                double d = Math.clamp(implied * scale, MIN_DIAMETER, MAX_DIAMETER);
                double r = d / 2;
                double x = cx - CENTROID_U[s.ordinal()] * r, y = cy - CENTROID_V[s.ordinal()] * r;
                // the union of the object's box and the template's footprint: zero elsewhere on both sides
                int x0 = Math.max(0, Math.min(box[0], (int) Math.floor(x - r))), x1 = Math.min(width - 1, Math.max(box[2], (int) Math.ceil(x + r)));
                int y0 = Math.max(0, Math.min(box[1], (int) Math.floor(y - r))), y1 = Math.min(height - 1, Math.max(box[3], (int) Math.ceil(y + r)));
                Renderer.coverage(s, x, y, d, template, width, height);
                double score = softIoU(observed, template, width, x0, y0, x1, y1);
                if (best == null || score > best.score) best = new Match(s, d, score, x, y);
            }
        }
        return best;
    }

    private static float[] floored(float[] coverage) {
        float[] out = new float[coverage.length];
        for (int i = 0; i < out.length; i++) out[i] = coverage[i] < COVERAGE_FLOOR ? 0f : coverage[i];
        return out;
    }

    /** Σ min / Σ max of two coverage maps over a window (the template is floored like the observation, and cleared). */
    private static double softIoU(float[] observed, float[] template, int width, int x0, int y0, int x1, int y1) {
        double overlap = 0, union = 0;
        for (int y = y0; y <= y1; y++) {
            for (int i = y * width + x0; i <= y * width + x1; i++) {
                float a = observed[i], b = template[i] < COVERAGE_FLOOR ? 0f : template[i];
                template[i] = 0f;
                overlap += Math.min(a, b);
                union += Math.max(a, b);
            }
        }
        return union == 0 ? 0 : overlap / union;
    }
}
