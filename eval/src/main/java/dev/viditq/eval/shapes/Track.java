package dev.viditq.eval.shapes;

/**
 * One object followed through a video.
 *
 * @param shape       majority of its per-frame shapes
 * @param color       majority of its per-frame colors
 * @param size        from the median per-frame diameter
 * @param direction   dominant axis of the fitted velocity; null when it barely moves (below {@value ShapesAnalyzer#MIN_SPEED} px/frame)
 * @param speed       from the fitted speed; null when it barely moves
 * @param velocityX   least-squares slope of the centroid track, pixels per frame
 * @param velocityY   as above
 * @param fitResidual root-mean-square distance of the centroids from the fitted line, in pixels
 * @param frames      the frames it was found in, ascending
 * @param centroidX   its centroid in each of those frames
 * @param centroidY   as above
 * @param area        its coverage-weighted area in each of those frames
 * @param coreColor   its core color (RGB) in each of those frames
 */
public record Track(Shape shape, ObjectColor color, Size size, Direction direction, Speed speed,
                    double velocityX, double velocityY, double fitResidual,
                    int[] frames, double[] centroidX, double[] centroidY, double[] area, float[][] coreColor) {
    public double pixelsPerFrame() {
        return Math.hypot(velocityX, velocityY);
    }
}
