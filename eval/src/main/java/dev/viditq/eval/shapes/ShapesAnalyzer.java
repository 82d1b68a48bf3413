package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Shapes image or video back into attributes, with no learned model: background from the border,
 * objects by segmentation against it, color by which palette blend line explains the pixels, shape and size by
 * template matching, cell from the center, and for videos motion from a linear fit of each object's centroid
 * track. Stateless and thread-safe.
 */
public final class ShapesAnalyzer {
    /** Tracks slower than this (pixels per frame) have no direction and no speed: they stand still. */
    public static final double MIN_SPEED = 0.15;
    /** Farthest a track's centroid may jump between consecutive frames it is found in, in pixels. */
    static final double MAX_LINK_DISTANCE = 5;
    /** Pixels within this Chebyshev distance of a component count towards its coverage map (its soft edges). */
    private static final int EDGE_REACH = 2;
    /** Pixels at least this fraction as far from the background as the object's farthest are its core. */
    private static final float CORE_FRACTION = 0.8f;

    private ShapesAnalyzer() {}

    public static ImageAnalysis analyzeImage(RgbImage image) {
        float[] bg = Segmenter.background(List.of(image));
        return analyzeFrame(image, bg);
    }

    public static VideoAnalysis analyzeVideo(RgbVideo video) {
        float[] bg = Segmenter.background(video.frames());
        List<ImageAnalysis> frames = new ArrayList<>(video.length());
        for (RgbImage f : video.frames()) frames.add(analyzeFrame(f, bg));
        return new VideoAnalysis(Segmenter.nearestBackground(bg), bg, Tracker.track(frames), frames);
    }

    /**
     * Pixels belonging to objects, or within {@value #EDGE_REACH} pixels of one (their soft edges): the complement
     * is the clean background. {@code background} is an RGB color in [0, 1], e.g. {@link ImageAnalysis#backgroundRgb}.
     */
    public static boolean[] objectMask(RgbImage image, float[] background) {
        int w = image.width(), h = image.height();
        int[] labels = new int[w * h];
        Segmenter.components(image, background, labels);
        boolean[] mask = new boolean[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (labels[y * w + x] < 0) continue;
                for (int ny = Math.max(0, y - EDGE_REACH); ny <= Math.min(h - 1, y + EDGE_REACH); ny++) {
                    for (int nx = Math.max(0, x - EDGE_REACH); nx <= Math.min(w - 1, x + EDGE_REACH); nx++) mask[ny * w + nx] = true;
                }
            }
        }
        return mask;
    }

    /** Objects of one frame, against a known background color. */
    static ImageAnalysis analyzeFrame(RgbImage image, float[] bg) {
        int[] labels = new int[image.width() * image.height()];
        List<Segmenter.Component> components = Segmenter.components(image, bg, labels);
        List<DetectedObject> objects = new ArrayList<>(components.size());
        for (Segmenter.Component c : components) objects.add(describe(image, bg, c, labels));
        objects.sort(Comparator.comparingDouble(DetectedObject::area).reversed());
        return new ImageAnalysis(Segmenter.nearestBackground(bg), bg, objects);
    }

    private static DetectedObject describe(RgbImage img, float[] bg, Segmenter.Component c, int[] labels) {
        ObjectColor color = paletteColor(img, bg, c.pixels());
        float[] core = coreColor(img, bg, c.pixels());
        float[] coverage = coverage(img, bg, core, c, labels);
        if (sum(coverage) < c.pixels().length / 4.0) coverage = binary(c, coverage.length);
        int w = img.width();
        double area = 0, sx = 0, sy = 0;
        for (int i = 0; i < coverage.length; i++) {
            area += coverage[i];
            sx += coverage[i] * (i % w + 0.5);
            sy += coverage[i] * (i / w + 0.5);
        }
        double cx = sx / area, cy = sy / area;
        int[] box = {Math.max(0, c.x0() - EDGE_REACH), Math.max(0, c.y0() - EDGE_REACH),
                Math.min(w - 1, c.x1() + EDGE_REACH), Math.min(img.height() - 1, c.y1() + EDGE_REACH)};
        ShapeMatcher.Match m = ShapeMatcher.match(coverage, w, img.height(), box, area, cx, cy);
        return new DetectedObject(m.shape(), color, Size.ofDiameter(m.diameter()), Position.at(m.centerX(), m.centerY()),
                m.centerX(), m.centerY(), cx, cy, area, m.diameter(), m.score(), core, c.pixels().length);
    }

    /**
     * The palette color whose blend line from the background (what anti-aliased edges lie on) passes closest to
     * the component's pixels, in summed squared distance.
     */
    static ObjectColor paletteColor(RgbImage img, float[] bg, int[] pixels) {
        float[] d = img.data();
        ObjectColor best = null;
        double bestResidual = Double.MAX_VALUE;
        for (ObjectColor color : ObjectColor.values()) {
            float[] rgb = color.rgb01();
            double lx = rgb[0] - bg[0], ly = rgb[1] - bg[1], lz = rgb[2] - bg[2];
            double norm2 = lx * lx + ly * ly + lz * lz;
            double residual = 0;
            for (int p : pixels) {
                double px = d[p * 3] - bg[0], py = d[p * 3 + 1] - bg[1], pz = d[p * 3 + 2] - bg[2];
                double t = Math.clamp((px * lx + py * ly + pz * lz) / norm2, 0, 1);
                double ex = px - t * lx, ey = py - t * ly, ez = pz - t * lz;
                residual += ex * ex + ey * ey + ez * ez;
            }
            if (residual < bestResidual) {
                bestResidual = residual;
                best = color;
            }
        }
        return best;
    }

    /** Mean color of the pixels at least {@link #CORE_FRACTION} as far from the background as the farthest one. */
    static float[] coreColor(RgbImage img, float[] bg, int[] pixels) {
        float far = 0;
        for (int p : pixels) far = Math.max(far, Segmenter.distanceAt(img, p, bg));
        float[] sum = new float[3];
        int n = 0;
        for (int p : pixels) {
            if (Segmenter.distanceAt(img, p, bg) < CORE_FRACTION * far) continue;
            for (int ch = 0; ch < 3; ch++) sum[ch] += img.data()[p * 3 + ch];
            n++;
        }
        for (int ch = 0; ch < 3; ch++) sum[ch] /= n;
        return sum;
    }

    /**
     * The component's coverage per pixel: how far along the line background → core color each pixel lies, in
     * [0, 1], over the component and its soft edges (pixels up to {@link #EDGE_REACH} away that belong to no
     * other component); zero elsewhere.
     */
    private static float[] coverage(RgbImage img, float[] bg, float[] core, Segmenter.Component c, int[] labels) {
        int w = img.width(), h = img.height();
        float[] out = new float[w * h];
        float lx = core[0] - bg[0], ly = core[1] - bg[1], lz = core[2] - bg[2];
        float norm2 = lx * lx + ly * ly + lz * lz;
        if (norm2 == 0) return out;
        float[] d = img.data();
        for (int y = Math.max(0, c.y0() - EDGE_REACH); y <= Math.min(h - 1, c.y1() + EDGE_REACH); y++) {
            for (int x = Math.max(0, c.x0() - EDGE_REACH); x <= Math.min(w - 1, c.x1() + EDGE_REACH); x++) {
                int p = y * w + x;
                if (labels[p] != c.label() && (labels[p] >= 0 || !near(labels, c.label(), x, y, w, h))) continue;
                float t = ((d[p * 3] - bg[0]) * lx + (d[p * 3 + 1] - bg[1]) * ly + (d[p * 3 + 2] - bg[2]) * lz) / norm2;
                out[p] = Math.clamp(t, 0f, 1f);
            }
        }
        return out;
    }

    /**
     * A plain mask of the component: the fallback coverage when projecting on the core color explains little of
     * the object (pixels on both sides of the background color, as a broken output might show).
     */
    private static float[] binary(Segmenter.Component c, int size) {
        float[] out = new float[size];
        for (int p : c.pixels()) out[p] = 1f;
        return out;
    }

    private static double sum(float[] values) {
        double s = 0;
        for (float v : values) s += v;
        return s;
    }

    private static boolean near(int[] labels, int label, int x, int y, int w, int h) {
        for (int ny = Math.max(0, y - EDGE_REACH); ny <= Math.min(h - 1, y + EDGE_REACH); ny++) {
            for (int nx = Math.max(0, x - EDGE_REACH); nx <= Math.min(w - 1, x + EDGE_REACH); nx++) {
                if (labels[ny * w + nx] == label) return true;
            }
        }
        return false;
    }

    /** Links per-frame detections into tracks and fits their motion. */
    static final class Tracker {
        private Tracker() {}

        static List<Track> track(List<ImageAnalysis> frames) {
            int count = modalCount(frames);
            if (count == 0) return List.of();
            int anchor = 0;
            while (frames.get(anchor).objects().size() != count) anchor++;
            List<List<Integer>> frameOf = new ArrayList<>();
            List<List<DetectedObject>> found = new ArrayList<>();
            for (DetectedObject o : frames.get(anchor).objects()) {
                frameOf.add(new ArrayList<>(List.of(anchor)));
                found.add(new ArrayList<>(List.of(o)));
            }
            for (int t = anchor + 1; t < frames.size(); t++) link(frames.get(t).objects(), t, found, frameOf, false);
            for (int t = anchor - 1; t >= 0; t--) link(frames.get(t).objects(), t, found, frameOf, true);
            List<Track> tracks = new ArrayList<>(count);
            for (int i = 0; i < count; i++) tracks.add(summarize(frameOf.get(i), found.get(i)));
            return tracks;
        }

        /** The most common number of objects per frame (ties: the larger). */
        private static int modalCount(List<ImageAnalysis> frames) {
            Map<Integer, Integer> histogram = new java.util.TreeMap<>();
            for (ImageAnalysis f : frames) histogram.merge(f.objects().size(), 1, Integer::sum);
            int best = 0, bestVotes = -1;
            for (Map.Entry<Integer, Integer> e : histogram.entrySet()) {
                if (e.getValue() >= bestVotes) {
                    best = e.getKey();
                    bestVotes = e.getValue();
                }
            }
            return best;
        }

        /**
         * Extends each track by the detection of frame {@code t} nearest to its latest (or, going backward,
         * earliest) centroid: closest pairs first, each detection used once, none farther than
         * {@link #MAX_LINK_DISTANCE}.
         */
        private static void link(List<DetectedObject> detections, int t, List<List<DetectedObject>> found,
                                 List<List<Integer>> frameOf, boolean backward) {
            record Pair(int track, int detection, double distance) {}
            List<Pair> pairs = new ArrayList<>();
            for (int i = 0; i < found.size(); i++) {
                List<DetectedObject> track = found.get(i);
                DetectedObject end = backward ? track.getFirst() : track.getLast();
                for (int j = 0; j < detections.size(); j++) {
                    DetectedObject d = detections.get(j);
                    double dist = Math.hypot(d.centroidX() - end.centroidX(), d.centroidY() - end.centroidY());
                    if (dist <= MAX_LINK_DISTANCE) pairs.add(new Pair(i, j, dist));
                }
            }
            pairs.sort(Comparator.comparingDouble(Pair::distance));
            boolean[] trackDone = new boolean[found.size()], detectionUsed = new boolean[detections.size()];
            for (Pair p : pairs) {
                if (trackDone[p.track] || detectionUsed[p.detection]) continue;
                trackDone[p.track] = detectionUsed[p.detection] = true;
                if (backward) {
                    found.get(p.track).addFirst(detections.get(p.detection));
                    frameOf.get(p.track).addFirst(t);
                } else {
                    found.get(p.track).add(detections.get(p.detection));
                    frameOf.get(p.track).add(t);
                }
            }
        }

        private static Track summarize(List<Integer> frameList, List<DetectedObject> found) {
            int n = found.size();
            int[] frames = frameList.stream().mapToInt(Integer::intValue).toArray();
            double[] xs = new double[n], ys = new double[n], areas = new double[n], diameters = new double[n];
            float[][] colors = new float[n][];
            for (int i = 0; i < n; i++) {
                DetectedObject o = found.get(i);
                xs[i] = o.centroidX();
                ys[i] = o.centroidY();
                areas[i] = o.area();
                diameters[i] = o.diameter();
                colors[i] = o.coreColor();
            }
            LineFit fx = LineFit.of(frames, xs), fy = LineFit.of(frames, ys);
            double speed = Math.hypot(fx.slope(), fy.slope());
            boolean moving = speed >= MIN_SPEED;
            double residual = Math.sqrt((fx.sumSquaredResidual() + fy.sumSquaredResidual()) / n);
            Arrays.sort(diameters);
            return new Track(majority(found, DetectedObject::shape, Shape.class), majority(found, DetectedObject::color, ObjectColor.class),
                    Size.ofDiameter(diameters[n / 2]), moving ? Direction.of(fx.slope(), fy.slope()) : null,
                    moving ? Speed.of(speed) : null, fx.slope(), fy.slope(), residual, frames, xs, ys, areas, colors);
        }

        private static <E extends Enum<E>> E majority(List<DetectedObject> found,
                                                      java.util.function.Function<DetectedObject, E> attribute, Class<E> type) {
            EnumMap<E, Integer> votes = new EnumMap<>(type);
            for (DetectedObject o : found) votes.merge(attribute.apply(o), 1, Integer::sum);
            return votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        }
    }

    /** Least-squares line y = intercept + slope·t. */
    record LineFit(double intercept, double slope, double sumSquaredResidual) {
        static LineFit of(int[] t, double[] y) {
            int n = t.length;
            double mt = 0, my = 0;
            for (int i = 0; i < n; i++) {
                mt += t[i];
                my += y[i];
            }
            mt /= n;
            my /= n;
            double stt = 0, sty = 0;
            for (int i = 0; i < n; i++) {
                stt += (t[i] - mt) * (t[i] - mt);
                sty += (t[i] - mt) * (y[i] - my);
            }
            double slope = stt == 0 ? 0 : sty / stt, intercept = my - slope * mt;
            double ssr = 0;
            for (int i = 0; i < n; i++) {
                double e = y[i] - intercept - slope * t[i];
                ssr += e * e;
            }
            return new LineFit(intercept, slope, ssr);
        }
    }
}
