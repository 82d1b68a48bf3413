package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * Renders scenes, as a pure function of the {@link Scene}: the background color, then each object blended over it
 * by its coverage of every pixel, estimated with 8×8 supersampling (anti-aliased edges, smooth sub-pixel motion).
 */
public final class Renderer {
    /** Supersampling grid per pixel side. */
    static final int SUBSAMPLES = 8;

    private Renderer() {}

    /** Frame 0 of the scene (the whole picture, for an image scene). */
    public static RgbImage render(Scene scene) {
        return renderFrame(scene, 0);
    }

    public static RgbVideo renderVideo(Scene scene) {
        List<RgbImage> frames = new ArrayList<>(scene.frames());
        for (int t = 0; t < scene.frames(); t++) frames.add(renderFrame(scene, t));
        return new RgbVideo(frames);
    }

    public static RgbImage renderFrame(Scene scene, int frame) {
        RgbImage img = RgbImage.filled(Scene.WIDTH, Scene.HEIGHT, scene.background().rgb01());
        float[] px = img.data();
        float[] cover = new float[Scene.WIDTH * Scene.HEIGHT];
        for (SceneObject o : scene.objects()) {
            java.util.Arrays.fill(cover, 0f);
            coverage(o.shape(), o.xAt(frame), o.yAt(frame), o.size().diameter(), cover, Scene.WIDTH, Scene.HEIGHT);
            float[] rgb = o.color().rgb01();
            for (int i = 0; i < cover.length; i++) {
                float a = cover[i];
                if (a == 0f) continue;
                for (int c = 0; c < 3; c++) px[i * 3 + c] += a * (rgb[c] - px[i * 3 + c]);
            }
        }
        return img;
    }

    /** All frames as 8-bit HWC into {@code out}, frame after frame, starting at {@code offset}. */
    public static void renderU8(Scene scene, byte[] out, int offset) {
        int frameBytes = Scene.WIDTH * Scene.HEIGHT * 3;
        for (int t = 0; t < scene.frames(); t++) renderFrame(scene, t).toU8(out, offset + t * frameBytes);
    }

    /**
     * Adds to {@code cover} (width×height, row-major) the fraction of each pixel covered by {@code shape} with
     * bounding-box center (cx, cy) and side {@code diameter}: the fraction of the pixel's 8×8 sample points (at
     * (i + 0.5) / 8 within the pixel) inside the shape. Pixels outside the canvas are clipped. Works row of
     * samples by row, counting the samples inside each {@link Shape#spans span} instead of testing each point.
     */
    public static void coverage(Shape shape, double cx, double cy, double diameter, float[] cover, int width, int height) {
        final int s = SUBSAMPLES;
        double r = diameter / 2;
        float perSample = 1f / (s * s);
        double[] spans = new double[4];
        int firstRow = Math.max(0, (int) Math.floor((cy - r) * s)), lastRow = Math.min(height * s - 1, (int) Math.ceil((cy + r) * s));
        for (int row = firstRow; row <= lastRow; row++) {
            int n = shape.spans(((row + 0.5) / s - cy) / r, spans);
            int base = (row / s) * width;
            for (int k = 0; k < n; k++) {
                // samples at x = (j + 0.5) / s with cx + lo·r <= x <= cx + hi·r
                int from = Math.max(0, (int) Math.ceil((cx + spans[2 * k] * r) * s - 0.5));
                int to = Math.min(width * s - 1, (int) Math.floor((cx + spans[2 * k + 1] * r) * s - 0.5));
                for (int j = from; j <= to; ) {
                    int pixel = j / s, end = Math.min(to, pixel * s + s - 1);
                    cover[base + pixel] += (end - j + 1) * perSample;
                    j = end + 1;
                }
            }
        }
    }
}
