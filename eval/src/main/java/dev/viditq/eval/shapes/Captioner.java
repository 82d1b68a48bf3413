package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /**
     * The scene a caption of this grammar states, read back by matching it against every template of {@code kind}:
     * shapes, colors, sizes, the background, and per object its cell (images: the object is put at the cell center)
     * or its direction and speed (videos: captions state no position, the object starts at the canvas center). Empty
     * when the caption is not one this class writes. Everything {@link dev.viditq.eval.metrics.CaptionAlignment}
     * scores comes back as the caption says it; so a caption file of this grammar can be scored without the scenes.
     */
    public static Optional<Scene> parse(String caption, Kind kind) {
        String text = caption.strip().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        boolean video = kind == Kind.VIDEO;
        for (String[] templates : video ? new String[][]{VIDEO_ONE, VIDEO_TWO} : new String[][]{IMAGE_ONE, IMAGE_TWO}) {
            for (String template : templates) {
                Matcher m = PATTERNS.computeIfAbsent(template, Captioner::pattern).matcher(text);
                if (m.matches()) return Optional.of(scene(m, kind, templates == IMAGE_TWO || templates == VIDEO_TWO ? 2 : 1));
            }
        }
        return Optional.empty();
    }

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    /** A template as a regex: literal text quoted, each placeholder a named group of its alternatives (longest first). */
    private static Pattern pattern(String template) {
        StringBuilder re = new StringBuilder();
        Matcher ph = Pattern.compile("\\{(o|p|d|dp|s)?(bg|\\d)}").matcher(template);
        int at = 0;
        while (ph.find()) {
            re.append(Pattern.quote(template.substring(at, ph.start())));
            String kind = ph.group(1), n = ph.group(2);
            re.append(switch (kind == null ? "bg" : kind) {
                case "bg" -> group("bg", Stream.of(Background.values()).map(Background::words));
                case "o" -> "a " + group("size" + n, Stream.of(Size.values()).flatMap(z -> Stream.of(z.words()))) + " "
                        + group("color" + n, Stream.of(ObjectColor.values()).map(ObjectColor::word)) + " "
                        + group("shape" + n, Stream.of(Shape.values()).map(Shape::word));
                case "p" -> group("pos" + n, Stream.of(Position.values()).flatMap(q -> Stream.of(q.phrases())));
                case "d" -> group("dir" + n, Stream.of(Direction.values()).map(Direction::word));
                case "dp" -> group("dir" + n, Stream.of(Direction.values()).map(Direction::phrase));
                default -> group("speed" + n, Stream.of(Speed.values()).flatMap(v -> Stream.of(v.words())));
            });
            at = ph.end();
        }
        re.append(Pattern.quote(template.substring(at)));
        return Pattern.compile(re.toString());
    }

    private static String group(String name, Stream<String> alternatives) {
        return "(?<" + name + ">" + String.join("|", alternatives.sorted(Comparator.comparingInt(String::length).reversed())
                .map(Pattern::quote).toList()) + ")";
    }

    private static Scene scene(Matcher m, Kind kind, int objects) {
        Background bg = Stream.of(Background.values()).filter(b -> b.words().equals(m.group("bg"))).findFirst().orElseThrow();
        List<SceneObject> list = new ArrayList<>();
        for (int i = 1; i <= objects; i++) {
            String n = Integer.toString(i);
            Size size = Stream.of(Size.values()).filter(z -> List.of(z.words()).contains(m.group("size" + n))).findFirst().orElseThrow();
            ObjectColor color = Stream.of(ObjectColor.values()).filter(c -> c.word().equals(m.group("color" + n))).findFirst().orElseThrow();
            Shape shape = Stream.of(Shape.values()).filter(h -> h.word().equals(m.group("shape" + n))).findFirst().orElseThrow();
            if (kind == Kind.VIDEO) {
                String d = m.group("dir" + n), v = m.group("speed" + n);
                Direction dir = Stream.of(Direction.values()).filter(x -> x.word().equals(d) || x.phrase().equals(d)).findFirst().orElseThrow();
                Speed speed = Stream.of(Speed.values()).filter(x -> List.of(x.words()).contains(v)).findFirst().orElseThrow();
                list.add(new SceneObject(shape, color, size, Scene.WIDTH / 2.0, Scene.HEIGHT / 2.0, dir, speed));
            } else {
                String p = m.group("pos" + n);
                Position pos = Stream.of(Position.values()).filter(q -> List.of(q.phrases()).contains(p)).findFirst().orElseThrow();
                list.add(SceneObject.still(shape, color, size, pos.centerX(), pos.centerY()));
            }
        }
        return new Scene(kind, bg, list);
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
