package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Finds the background and the objects of a frame: the background is the dominant border color; objects are
 * 8-connected components of pixels far from it.
 */
final class Segmenter {
    /** RGB distance (channels in [0, 1]) from the background beyond which a pixel is object. The closest object
     *  color to a background is 0.51 away, so edge pixels more than about 40% covered count as object. */
    static final float FOREGROUND_DISTANCE = 0.2f;
    /** Components smaller than this many pixels are noise, not objects: the smallest object (a small diamond)
     *  covers 32 pixels, while clusters of noisy pixels rarely reach 12 even at a noise sigma of 0.08. */
    static final int MIN_PIXELS = 12;
    /** Border pixels within this distance of the per-channel median vote for the background color. */
    private static final float BACKGROUND_INLIER = 0.12f;

    private Segmenter() {}

    /** A connected set of object pixels, as indices y * width + x, with its bounding box. */
    record Component(int label, int[] pixels, int x0, int y0, int x1, int y1) {}

    /** The dominant border color over all frames: the mean of border pixels near the per-channel median. */
    static float[] background(List<RgbImage> frames) {
        List<float[]> border = new ArrayList<>();
        for (RgbImage f : frames) {
            int w = f.width(), h = f.height();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    if (x == 0 || y == 0 || x == w - 1 || y == h - 1) border.add(rgb(f, x, y));
                }
            }
        }
        float[] median = new float[3];
        float[] channel = new float[border.size()];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < channel.length; i++) channel[i] = border.get(i)[c];
            Arrays.sort(channel);
            median[c] = channel[channel.length / 2];
        }
        float[] sum = new float[3];
        int n = 0;
        for (float[] p : border) {
            if (distance(p, median) <= BACKGROUND_INLIER) {
                for (int c = 0; c < 3; c++) sum[c] += p[c];
                n++;
            }
        }
        if (n == 0) return median;
        for (int c = 0; c < 3; c++) sum[c] /= n;
        return sum;
    }

    static Background nearestBackground(float[] rgb) {
        Background best = null;
        double bestDistance = Double.MAX_VALUE;
        for (Background b : Background.values()) {
            double d = distance(rgb, b.rgb01());
            if (d < bestDistance) {
                bestDistance = d;
                best = b;
            }
        }
        return best;
    }

    /**
     * Labels the object pixels of {@code img} (8-connectivity): {@code labels[i]} is the component index of pixel
     * i, or -1 for background and for components below {@link #MIN_PIXELS}. Returns the kept components.
     */
    static List<Component> components(RgbImage img, float[] background, int[] labels) {
        int w = img.width(), h = img.height();
        boolean[] foreground = new boolean[w * h];
        for (int i = 0; i < w * h; i++) foreground[i] = distanceAt(img, i, background) > FOREGROUND_DISTANCE;
        Arrays.fill(labels, -1);
        boolean[] seen = new boolean[w * h];
        int[] queue = new int[w * h];
        List<Component> components = new ArrayList<>();
        for (int start = 0; start < w * h; start++) {
            if (!foreground[start] || seen[start]) continue;
            int size = flood(start, foreground, seen, queue, w, h);
            if (size < MIN_PIXELS) continue;
            int[] pixels = Arrays.copyOf(queue, size);
            int x0 = w, y0 = h, x1 = -1, y1 = -1;
            for (int p : pixels) {
                labels[p] = components.size();
                x0 = Math.min(x0, p % w);
                x1 = Math.max(x1, p % w);
                y0 = Math.min(y0, p / w);
                y1 = Math.max(y1, p / w);
            }
            components.add(new Component(components.size(), pixels, x0, y0, x1, y1));
        }
        return components;
    }

    /** Breadth-first fill from {@code start}; the component's pixels end up in queue[0, returned size). */
    private static int flood(int start, boolean[] foreground, boolean[] seen, int[] queue, int w, int h) {
        int head = 0, tail = 0;
        queue[tail++] = start;
        seen[start] = true;
        while (head < tail) {
            int p = queue[head++], px = p % w, py = p / w;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = px + dx, ny = py + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                    int q = ny * w + nx;
                    if (foreground[q] && !seen[q]) {
                        seen[q] = true;
                        queue[tail++] = q;
                    }
                }
            }
        }
        return tail;
    }

    static float[] rgb(RgbImage img, int x, int y) {
        return new float[]{img.get(x, y, 0), img.get(x, y, 1), img.get(x, y, 2)};
    }

    static float distanceAt(RgbImage img, int pixel, float[] rgb) {
        float[] d = img.data();
        float r = d[pixel * 3] - rgb[0], g = d[pixel * 3 + 1] - rgb[1], b = d[pixel * 3 + 2] - rgb[2];
        return (float) Math.sqrt(r * r + g * g + b * b);
    }

    static float distance(float[] a, float[] b) {
        float r = a[0] - b[0], g = a[1] - b[1], bl = a[2] - b[2];
        return (float) Math.sqrt(r * r + g * g + bl * bl);
    }
}
