package dev.viditq.eval.shapes;

/**
 * One object the analyzer found in a frame.
 *
 * @param shape      best-matching shape template
 * @param color      palette color whose blend line (background → color) explains the object's pixels best
 * @param size       from {@code diameter}
 * @param position   grid cell of the bounding-box center ({@code x}, {@code y})
 * @param x          estimated bounding-box center: the centroid corrected for the matched shape's centroid offset
 * @param y          (a triangle's centroid lies below its box center)
 * @param centroidX  coverage-weighted centroid, in pixel coordinates (pixel i spans [i, i+1))
 * @param centroidY  as above
 * @param area       coverage-weighted area in pixels
 * @param diameter   side of the best-matching template's bounding box, in pixels
 * @param shapeScore soft intersection-over-union of the object with that template (1 for a perfect match)
 * @param coreColor  mean RGB of the object's most saturated pixels (away from anti-aliased edges)
 * @param pixels     pixels in the segmented component
 */
public record DetectedObject(Shape shape, ObjectColor color, Size size, Position position, double x, double y,
                             double centroidX, double centroidY, double area, double diameter, double shapeScore,
                             float[] coreColor, int pixels) {}
