package dev.viditq.eval.shapes;

import java.util.stream.Stream;

/**
 * Phrases a scene as a caption, choosing one of several templates and synonyms with the given random stream.
 * Every caption states every attribute the scene's {@link Scene#promptKey() prompt key} holds: for each object
 * its size, color and shape, plus its cell (images) or its direction and speed (videos); and the background.
 * Captions are lower case; words are separated by single spaces, and "," and ":" follow a word directly
 * ({@link ShapesVocabulary#tokenize} splits them off).
 */
public final class Captioner {
    private static final String[] IMAGE_ONE = {
            "{o1} {p1} on a {bg} background",
            "{o1} {p1}, {bg} background",
            "a {bg} background with {o1} {p1}",
            "{p1}, {o1} on a {bg} background",
            "an image of {o1} {p1} on a {bg} background",
    };
    private static final String[] IMAGE_TWO = {
            "two shapes: {o1} {p1} and {o2} {p2} on a {bg} background",
            "{o1} {p1} and {o2} {p2}, {bg} background",
            "a {bg} background with two shapes: {o1} {p1} and {o2} {p2}",
            "an image of {o1} {p1} and {o2} {p2} on a {bg} background",
    };
    private static final String[] VIDEO_ONE = {
            "{o1} moving {d1} {s1} on a {bg} background",
            "{o1} on a {bg} background moving {s1} {dp1}",
            "a {bg} background with {o1} moving {d1} {s1}",
            "{o1} moves {dp1} {s1}, {bg} background",
            "a video of {o1} moving {d1} {s1} on a {bg} background",
    };
    private static final String[] VIDEO_TWO = {
            "two shapes on a {bg} background: {o1} moving {d1} {s1} and {o2} moving {d2} {s2}",
            "{o1} moving {d1} {s1} and {o2} moving {d2} {s2}, {bg} background",
            "a video of {o1} moving {d1} {s1} and {o2} moving {dp2} {s2} on a {bg} background",
    };

    private Captioner() {}

    public static String caption(Scene scene, Rng rng) {
        boolean video = scene.kind() == Kind.VIDEO, two = scene.objects().size() == 2;
        String text = rng.pick(video ? (two ? VIDEO_TWO : VIDEO_ONE) : (two ? IMAGE_TWO : IMAGE_ONE));
        text = text.replace("{bg}", scene.background().words());
        for (int i = 0; i < scene.objects().size(); i++) {
            SceneObject o = scene.objects().get(i);
            String n = Integer.toString(i + 1);
            text = text.replace("{o" + n + "}", "a " + rng.pick(o.size().words()) + " " + o.color().word() + " " + o.shape().word());
            if (video) {
                text = text.replace("{d" + n + "}", o.direction().word())
                        .replace("{dp" + n + "}", o.direction().phrase())
                        .replace("{s" + n + "}", rng.pick(o.speed().words()));
            } else {
                text = text.replace("{p" + n + "}", rng.pick(o.position().phrases()));
            }
        }
        return text;
    }

    /** Every fixed piece of text a caption can contain: templates (placeholders included) and attribute words. */
    static Stream<String> allText() {
        Stream<String> templates = Stream.of(IMAGE_ONE, IMAGE_TWO, VIDEO_ONE, VIDEO_TWO).flatMap(Stream::of);
        Stream<String> words = Stream.of(
                Stream.of("a", "moving"),
                Stream.of(Shape.values()).map(Shape::word),
                Stream.of(ObjectColor.values()).map(ObjectColor::word),
                Stream.of(Background.values()).map(Background::words),
                Stream.of(Size.values()).flatMap(s -> Stream.of(s.words())),
                Stream.of(Position.values()).flatMap(p -> Stream.of(p.phrases())),
                Stream.of(Direction.values()).flatMap(d -> Stream.of(d.word(), d.phrase())),
                Stream.of(Speed.values()).flatMap(s -> Stream.of(s.words()))).flatMap(s -> s);
        return Stream.concat(templates, words);
    }
}
