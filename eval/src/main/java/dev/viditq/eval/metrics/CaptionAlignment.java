package dev.viditq.eval.metrics;

import dev.viditq.eval.shapes.Background;
import dev.viditq.eval.shapes.DetectedObject;
import dev.viditq.eval.shapes.Direction;
import dev.viditq.eval.shapes.ImageAnalysis;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.ObjectColor;
import dev.viditq.eval.shapes.Position;
import dev.viditq.eval.shapes.Scene;
import dev.viditq.eval.shapes.SceneObject;
import dev.viditq.eval.shapes.Shape;
import dev.viditq.eval.shapes.Size;
import dev.viditq.eval.shapes.Speed;
import dev.viditq.eval.shapes.Track;
import dev.viditq.eval.shapes.VideoAnalysis;

import java.util.List;

/**
 * Caption alignment: which attributes of the prompt's scene the analyzer recovered from a generated output.
 * Scored: the background and the object count once per output; per prompt object its shape, color and size,
 * plus its cell (images) or direction and speed (videos). Prompt objects are paired with found objects by the
 * one-to-one assignment that recovers the most attributes; a prompt object left without a partner (too few
 * found) scores zero on all its attributes, and surplus found objects cost only the count.
 */
public final class CaptionAlignment {
    /** Found objects beyond this many (largest first) are not considered as partners; they still count. */
    private static final int MAX_CANDIDATES = 6;

    private CaptionAlignment() {}

    /** What was found about one object, in the terms a caption uses; null where not applicable or not measured. */
    private record Found(Shape shape, ObjectColor color, Size size, Position position, Direction direction, Speed speed) {}

    public static AlignmentScore score(Scene prompt, ImageAnalysis analysis) {
        requireKind(prompt, Kind.IMAGE);
        List<Found> found = analysis.objects().stream()
                .map((DetectedObject o) -> new Found(o.shape(), o.color(), o.size(), o.position(), null, null)).toList();
        return score(prompt, analysis.background(), found);
    }

    public static AlignmentScore score(Scene prompt, VideoAnalysis analysis) {
        requireKind(prompt, Kind.VIDEO);
        List<Found> found = analysis.tracks().stream()
                .map((Track t) -> new Found(t.shape(), t.color(), t.size(), null, t.direction(), t.speed())).toList();
        return score(prompt, analysis.background(), found);
    }

    private static void requireKind(Scene prompt, Kind kind) {
        if (prompt.kind() != kind) {
            throw new IllegalArgumentException("a " + prompt.kind().id() + " prompt cannot be scored against a " + kind.id() + " analysis");
        }
    }

    private static AlignmentScore score(Scene prompt, Background background, List<Found> found) {
        List<SceneObject> wanted = prompt.objects();
        List<Found> candidates = found.subList(0, Math.min(found.size(), MAX_CANDIDATES));
        int[] best = new int[wanted.size()];
        bestAssignment(prompt.kind(), wanted, candidates, 0, new int[wanted.size()], new boolean[candidates.size()], 0, best, new int[]{-1});
        AlignmentScore score = new AlignmentScore();
        score.count(Attribute.BACKGROUND, background == prompt.background());
        score.count(Attribute.COUNT, found.size() == wanted.size());
        for (int i = 0; i < wanted.size(); i++) {
            Found partner = best[i] < 0 ? null : candidates.get(best[i]);
            for (Attribute a : objectAttributes(prompt.kind())) score.count(a, partner != null && matches(a, wanted.get(i), partner));
        }
        return score;
    }

    /** Exhaustive search over partial injections (prompt object → candidate or none); n ≤ 2, candidates ≤ 6. */
    private static void bestAssignment(Kind kind, List<SceneObject> wanted, List<Found> candidates, int i, int[] current,
                                       boolean[] used, int hits, int[] best, int[] bestHits) {
        if (i == wanted.size()) {
            if (hits > bestHits[0]) {
                bestHits[0] = hits;
                System.arraycopy(current, 0, best, 0, current.length);
            }
            return;
        }
        current[i] = -1;
        bestAssignment(kind, wanted, candidates, i + 1, current, used, hits, best, bestHits);
        for (int j = 0; j < candidates.size(); j++) {
            if (used[j]) continue;
            used[j] = true;
            current[i] = j;
            int h = 0;
            for (Attribute a : objectAttributes(kind)) if (matches(a, wanted.get(i), candidates.get(j))) h++;
            bestAssignment(kind, wanted, candidates, i + 1, current, used, hits + h, best, bestHits);
            used[j] = false;
        }
    }

    private static List<Attribute> objectAttributes(Kind kind) {
        return kind == Kind.IMAGE
                ? List.of(Attribute.SHAPE, Attribute.COLOR, Attribute.SIZE, Attribute.POSITION)
                : List.of(Attribute.SHAPE, Attribute.COLOR, Attribute.SIZE, Attribute.DIRECTION, Attribute.SPEED);
    }

    private static boolean matches(Attribute a, SceneObject want, Found got) {
        return switch (a) {
            case SHAPE -> want.shape() == got.shape();
            case COLOR -> want.color() == got.color();
            case SIZE -> want.size() == got.size();
            case POSITION -> want.position() == got.position();
            case DIRECTION -> want.direction() == got.direction();
            case SPEED -> want.speed() == got.speed();
            case BACKGROUND, COUNT -> throw new IllegalArgumentException(a + " is not an object attribute");
        };
    }
}
