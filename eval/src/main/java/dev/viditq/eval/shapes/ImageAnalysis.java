package dev.viditq.eval.shapes;

import java.util.List;

/**
 * What the analyzer read from one image.
 *
 * @param background    the palette background nearest to {@code backgroundRgb}
 * @param backgroundRgb the estimated background color (dominant border color), RGB in [0, 1]
 * @param objects       the objects found, largest first
 */
public record ImageAnalysis(Background background, float[] backgroundRgb, List<DetectedObject> objects) {
    public ImageAnalysis {
        objects = List.copyOf(objects);
    }
}
