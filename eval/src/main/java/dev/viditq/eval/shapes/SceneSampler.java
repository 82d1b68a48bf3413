package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * Draws random scenes. Objects stay fully inside the canvas with half a pixel to spare, in every frame; the two
 * objects of a scene stay at least {@value #MIN_GAP} clean pixels apart in every frame, so the analyzer can
 * always tell them apart (and so can a model).
 */
final class SceneSampler {
    /** Probability of a second object in an image, and in a video. */
    static final double TWO_OBJECTS_IMAGE = 0.4, TWO_OBJECTS_VIDEO = 0.3;
    /** Largest offset of an image object from its cell center, in pixels along each axis. */
    static final double JITTER = 1.0;
    /** Background pixels required between the pixel footprints of two objects. */
    static final int MIN_GAP = 2;
    private static final int PLACEMENT_TRIES = 20;
    private static final double MARGIN = 0.5;

    /** Ordered pairs of cells that do not touch: only these can hold two objects without them touching. */
    private static final Position[][] APART_CELLS = apartCells();

    private SceneSampler() {}

    private static Position[][] apartCells() {
        List<Position[]> pairs = new ArrayList<>();
        for (Position a : Position.values()) {
            for (Position b : Position.values()) {
                if (!a.touches(b)) pairs.add(new Position[]{a, b});
            }
        }
        return pairs.toArray(Position[][]::new);
    }

    static Scene sample(Kind kind, Rng rng) {
        while (true) {
            Background bg = rng.pick(Background.values());
            boolean two = rng.chance(kind == Kind.VIDEO ? TWO_OBJECTS_VIDEO : TWO_OBJECTS_IMAGE);
            Scene scene = kind == Kind.VIDEO ? video(bg, two ? 2 : 1, rng) : image(bg, two ? 2 : 1, rng);
            if (scene != null) return scene;
        }
    }

    /** An image scene, or null when the drawn objects cannot be placed apart (the caller draws again). */
    private static Scene image(Background bg, int count, Rng rng) {
        Position[] cells = count == 2 ? rng.pick(APART_CELLS) : new Position[]{rng.pick(Position.values())};
        Look[] looks = {Look.random(rng), Look.random(rng)};
        for (int attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
            List<SceneObject> objects = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                double r = looks[i].size.diameter() / 2.0;
                double x = inside(cells[i].centerX() + rng.uniform(-JITTER, JITTER), r);
                double y = inside(cells[i].centerY() + rng.uniform(-JITTER, JITTER), r);
                objects.add(SceneObject.still(looks[i].shape, looks[i].color, looks[i].size, x, y));
            }
            Scene scene = new Scene(Kind.IMAGE, bg, objects);
            if (apart(scene)) return scene;
        }
        return null;
    }

    /** A video scene, or null when the drawn objects cannot be placed apart (the caller draws again). */
    private static Scene video(Background bg, int count, Rng rng) {
        Look[] looks = {Look.random(rng), Look.random(rng)};
        Direction[] dirs = {rng.pick(Direction.values()), rng.pick(Direction.values())};
        Speed[] speeds = {rng.pick(Speed.values()), rng.pick(Speed.values())};
        for (int attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
            List<SceneObject> objects = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                double r = looks[i].size.diameter() / 2.0;
                double travel = speeds[i].pixelsPerFrame() * (Kind.VIDEO.frames() - 1);
                double x = start(dirs[i].dx(), travel, r, rng), y = start(dirs[i].dy(), travel, r, rng);
                objects.add(new SceneObject(looks[i].shape, looks[i].color, looks[i].size, x, y, dirs[i], speeds[i]));
            }
            Scene scene = new Scene(Kind.VIDEO, bg, objects);
            if (apart(scene)) return scene;
        }
        return null;
    }

    /** A start coordinate along one axis such that the whole path (sign·travel) stays inside the canvas. */
    private static double start(int sign, double travel, double r, Rng rng) {
        double lo = r + MARGIN, hi = Scene.WIDTH - r - MARGIN;
        if (sign > 0) hi -= travel;
        if (sign < 0) lo += travel;
        return rng.uniform(lo, hi);
    }

    private static double inside(double center, double r) {
        return Math.clamp(center, r + MARGIN, Scene.WIDTH - r - MARGIN);
    }

    /** Whether the two objects (if two) keep {@link #MIN_GAP} pixels apart along x or y in every frame. */
    static boolean apart(Scene scene) {
        if (scene.objects().size() < 2) return true;
        SceneObject a = scene.objects().get(0), b = scene.objects().get(1);
        for (int t = 0; t < scene.frames(); t++) {
            boolean xApart = gap(a.xAt(t), a.radius(), b.xAt(t), b.radius()) >= MIN_GAP;
            boolean yApart = gap(a.yAt(t), a.radius(), b.yAt(t), b.radius()) >= MIN_GAP;
            if (!xApart && !yApart) return false;
        }
        return true;
    }

    /** Untouched pixels between the pixel footprints [floor(c-r), ceil(c+r)) of two objects along one axis. */
    private static int gap(double c1, double r1, double c2, double r2) {
        if (c1 > c2) return gap(c2, r2, c1, r1);
        int end1 = (int) Math.ceil(c1 + r1), start2 = (int) Math.floor(c2 - r2);
        return start2 - end1;
    }

    private record Look(Shape shape, ObjectColor color, Size size) {
        static Look random(Rng rng) {
            return new Look(rng.pick(Shape.values()), rng.pick(ObjectColor.values()), rng.pick(Size.values()));
        }
    }
}
