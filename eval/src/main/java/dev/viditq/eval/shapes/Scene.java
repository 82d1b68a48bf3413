package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * The ground truth of one sample: what the caption says and everything the renderer needs. Rendering is a pure
 * function of the scene ({@link Renderer}); captions are chosen separately ({@link Captioner}) because one scene
 * can be phrased many ways.
 */
public record Scene(Kind kind, Background background, List<SceneObject> objects) {
    public static final int WIDTH = 32, HEIGHT = 32;
    public static final int MAX_OBJECTS = 2;

    public Scene {
        objects = List.copyOf(objects);
        if (kind == null || background == null) throw new IllegalArgumentException("a scene needs a kind and a background");
        if (objects.isEmpty() || objects.size() > MAX_OBJECTS) {
            throw new IllegalArgumentException("a scene has 1 or " + MAX_OBJECTS + " objects, not " + objects.size());
        }
        for (SceneObject o : objects) {
            if (o.moving() != (kind == Kind.VIDEO)) {
                throw new IllegalArgumentException(kind == Kind.VIDEO
                        ? "every object of a video scene must move" : "objects of an image scene cannot move");
            }
        }
    }

    public int frames() {
        return kind.frames();
    }

    /** This scene at one frame, as an image scene. */
    public Scene frame(int t) {
        return new Scene(Kind.IMAGE, background, objects.stream().map(o -> o.stillAt(t)).toList());
    }

    /**
     * The attribute combination a caption states, independent of phrasing, jitter and object order, e.g.
     * {@code image|black|circle red large top_left}. Splits are assigned by hashing it, so that a prompt of the
     * eval split never appears, in any wording, in the training set.
     */
    public String promptKey() {
        List<String> parts = new ArrayList<>();
        for (SceneObject o : objects) {
            String common = o.shape() + " " + o.color() + " " + o.size();
            parts.add(kind == Kind.IMAGE ? common + " " + o.position() : common + " " + o.direction() + " " + o.speed());
        }
        parts.sort(null);
        return (kind.id() + "|" + background + "|" + String.join("|", parts)).toLowerCase(java.util.Locale.ROOT);
    }
}
