package dev.viditq.eval.shapes;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class ShapesGeneratorTest {
    @Test
    void trainPromptsAreDeterministicAndDependOnTheSeed() {
        for (Kind kind : Kind.values()) {
            assertEquals(ShapesGenerator.train(kind, 5, 123), ShapesGenerator.train(kind, 5, 123));
            assertNotEquals(ShapesGenerator.train(kind, 5, 123).scene(), ShapesGenerator.train(kind, 6, 123).scene());
            assertEquals(ShapesGenerator.train(kind, 5, 9), ShapesGenerator.prompts(kind, Split.TRAIN, 10, 5).get(9));
        }
    }

    @Test
    void fixedSplitsHaveTheirStandardSizesDistinctPromptsAndStablePrefixes() {
        for (Kind kind : Kind.values()) {
            for (Split split : List.of(Split.CALIB, Split.EVAL)) {
                int n = ShapesGenerator.standardCount(kind, split);
                List<ShapesPrompt> prompts = ShapesGenerator.fixed(kind, split, n);
                assertEquals(n, prompts.size());
                assertEquals(n, prompts.stream().map(p -> p.scene().promptKey()).distinct().count(), "distinct keys");
                prompts.forEach(p -> assertEquals(split, Split.of(p.scene())));
                assertEquals(prompts.subList(0, 10), ShapesGenerator.fixed(kind, split, 10));
                assertTrue(prompts.stream().anyMatch(p -> p.scene().objects().size() == 2), "some two-object prompts");
            }
        }
    }

    @Test
    void splitsAreDisjoint() {
        for (Kind kind : Kind.values()) {
            Set<String> held = new HashSet<>();
            for (Split split : List.of(Split.CALIB, Split.EVAL)) {
                Set<String> keys = ShapesGenerator.fixed(kind, split, ShapesGenerator.standardCount(kind, split)).stream()
                        .map(p -> p.scene().promptKey()).collect(Collectors.toSet());
                for (String k : keys) assertTrue(held.add(k), "in both calib and eval: " + k);
            }
            for (int i = 0; i < 20_000; i++) {
                String key = ShapesGenerator.train(kind, 1, i).scene().promptKey();
                assertFalse(held.contains(key), "held-out prompt in train: " + key);
            }
        }
    }

    @Test
    void objectsStayInsideTheCanvasAndApartInEveryFrame() {
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < 3000; i++) {
                Scene s = ShapesGenerator.train(kind, 2, i).scene();
                assertTrue(SceneSampler.apart(s), s.toString());
                for (SceneObject o : s.objects()) {
                    for (int t = 0; t < s.frames(); t++) {
                        assertTrue(o.xAt(t) - o.radius() >= 0 && o.xAt(t) + o.radius() <= Scene.WIDTH, s + " frame " + t);
                        assertTrue(o.yAt(t) - o.radius() >= 0 && o.yAt(t) + o.radius() <= Scene.HEIGHT, s + " frame " + t);
                    }
                }
            }
        }
    }

    @Test
    void trainingCoversEveryAttributeValue() {
        Set<Object> seen = new HashSet<>();
        Set<Integer> counts = new HashSet<>();
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < 3000; i++) {
                Scene s = ShapesGenerator.train(kind, 4, i).scene();
                seen.add(s.background());
                counts.add(s.objects().size() * 10 + kind.ordinal());
                for (SceneObject o : s.objects()) {
                    seen.addAll(List.of(o.shape(), o.color(), o.size(), o.position()));
                    if (o.moving()) seen.addAll(List.of(o.direction(), o.speed()));
                }
            }
        }
        for (Class<? extends Enum<?>> e : List.of(Shape.class, ObjectColor.class, Size.class, Position.class,
                Background.class, Direction.class, Speed.class)) {
            for (Enum<?> v : e.getEnumConstants()) assertTrue(seen.contains(v), "never drawn: " + v);
        }
        assertEquals(Set.of(10, 11, 20, 21), counts, "one and two objects, in images and videos");
    }

    @Test
    void captionsStateEveryAttributeOfTheScene() {
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < 2000; i++) {
                ShapesPrompt p = ShapesGenerator.train(kind, 8, i);
                String c = " " + String.join(" ", ShapesVocabulary.tokenize(p.caption())) + " ";
                assertTrue(c.contains(" " + p.scene().background().words() + " "), c);
                if (p.scene().objects().size() == 2) assertTrue(c.contains(" and "), c);
                for (SceneObject o : p.scene().objects()) {
                    assertTrue(java.util.Arrays.stream(o.size().words())
                            .anyMatch(w -> c.contains(" a " + w + " " + o.color().word() + " " + o.shape().word() + " ")), c);
                    if (kind == Kind.IMAGE) {
                        assertTrue(java.util.Arrays.stream(o.position().phrases()).anyMatch(ph -> c.contains(" " + ph + " ")), c + " / " + o.position());
                    } else {
                        assertTrue(c.contains(" " + o.direction().word() + " ") || c.contains(" " + o.direction().phrase() + " "), c);
                        assertTrue(java.util.Arrays.stream(o.speed().words()).anyMatch(w -> c.contains(" " + w + " ")), c);
                    }
                }
            }
        }
    }
}
