package dev.viditq.eval.run;

import dev.viditq.eval.metrics.AlignmentSummary;
import dev.viditq.eval.metrics.Attribute;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Renderer;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.eval.shapes.Split;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Scoring of generated samples, checked on ground-truth renders (perfect) and on deliberately wrong ones. */
class ShapesScoresTest {

    private static List<Sample> rendered(Kind kind, int count) {
        List<Sample> out = new ArrayList<>();
        for (EvalPrompt p : EvalPrompts.shapes(kind, Split.EVAL, count)) {
            RgbVideo v = kind == Kind.IMAGE ? new RgbVideo(List.of(Renderer.render(p.truth()))) : Renderer.renderVideo(p.truth());
            out.add(new Sample(p, v));
        }
        return out;
    }

    @Test
    void groundTruthImagesScorePerfectly() {
        ShapesScores s = ShapesScores.of(rendered(Kind.IMAGE, 24));
        assertEquals(1.0, s.alignment(), 1e-12);
        assertEquals(24, s.perSample().size());
        assertTrue(Double.isNaN(s.motionAccuracy()), "images have no motion");
        assertNull(s.temporal());
        assertTrue(s.summary().perAttribute().containsKey(Attribute.POSITION));
        assertFalse(s.summary().perAttribute().containsKey(Attribute.DIRECTION));
        assertEquals(24, s.byObjects().values().stream().mapToInt(AlignmentSummary::count).sum());
        assertEquals(java.util.Set.of(1, 2), s.byObjects().keySet(), "the eval split mixes one- and two-object prompts");
    }

    @Test
    void imagesOfOtherPromptsLoseAlignmentAndNameWhatWasMissed() {
        List<Sample> truth = rendered(Kind.IMAGE, 12);
        List<Sample> shifted = new ArrayList<>();
        for (int i = 0; i < truth.size(); i++) {
            shifted.add(new Sample(truth.get(i).prompt(), truth.get((i + 1) % truth.size()).video()));
        }
        ShapesScores s = ShapesScores.of(shifted);
        assertTrue(s.alignment() < 0.8, "another prompt's picture should miss most attributes: " + s.alignment());
        long withMisses = s.perSample().stream().filter(a -> !ShapesScores.missed(a).isEmpty()).count();
        assertEquals(12, withMisses);
    }

    @Test
    void groundTruthVideosScorePerfectlyAndFrozenOnesHaveNoMotion() {
        List<Sample> truth = rendered(Kind.VIDEO, 6);
        ShapesScores s = ShapesScores.of(truth);
        assertEquals(1.0, s.alignment(), 1e-12);
        assertEquals(1.0, s.motionAccuracy(), 1e-12);
        assertEquals(0, s.untracked());
        assertEquals(1.0, s.temporal().trackCoverage(), 1e-12);
        assertTrue(s.temporal().trajectoryResidual() < 0.1, "renders move on straight lines: " + s.temporal());

        List<Sample> frozen = new ArrayList<>();
        for (Sample t : truth) {
            RgbImage first = t.video().frame(0);
            frozen.add(new Sample(t.prompt(), new RgbVideo(Collections.nCopies(t.video().length(), first))));
        }
        ShapesScores f = ShapesScores.of(frozen);
        assertEquals(0.0, f.motionAccuracy(), 1e-12, "a still video recovers neither direction nor speed");
        assertEquals(0.0, f.temporal().backgroundFlicker(), 1e-12);
        assertEquals(1.0, f.summary().accuracy(Attribute.COLOR), 1e-12, "colors are still right");
    }

    @Test
    void promptsWithoutTruthCannotBeScored() {
        Sample s = rendered(Kind.IMAGE, 1).getFirst();
        Sample free = new Sample(new EvalPrompt(0, "free text", null), s.video());
        assertThrows(IllegalArgumentException.class, () -> ShapesScores.of(List.of(free)));
    }
}
