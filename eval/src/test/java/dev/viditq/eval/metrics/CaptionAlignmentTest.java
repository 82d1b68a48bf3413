package dev.viditq.eval.metrics;

import dev.viditq.eval.shapes.*;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CaptionAlignmentTest {
    private static final SceneObject CIRCLE = SceneObject.still(Shape.CIRCLE, ObjectColor.RED, Size.LARGE, 8, 8);
    private static final SceneObject SQUARE = SceneObject.still(Shape.SQUARE, ObjectColor.BLUE, Size.SMALL, 24, 24);

    private static Scene image(Background bg, SceneObject... objects) {
        return new Scene(Kind.IMAGE, bg, List.of(objects));
    }

    private static AlignmentScore score(Scene prompt, Scene rendered) {
        return CaptionAlignment.score(prompt, ShapesAnalyzer.analyzeImage(Renderer.render(rendered)));
    }

    @Test
    void aFaithfulRenderRecoversEverything() {
        Scene prompt = image(Background.BLACK, CIRCLE, SQUARE);
        AlignmentScore s = score(prompt, prompt);
        assertEquals(1.0, s.fraction());
        assertEquals(2 + 2 * 4, s.total(), "background, count, and 4 attributes per object");
    }

    @Test
    void aWrongColorCostsOnlyTheColor() {
        Scene prompt = image(Background.BLACK, CIRCLE, SQUARE);
        SceneObject green = SceneObject.still(Shape.CIRCLE, ObjectColor.GREEN, Size.LARGE, 8, 8);
        AlignmentScore s = score(prompt, image(Background.BLACK, green, SQUARE));
        assertEquals(1, s.hits(Attribute.COLOR));
        assertEquals(2, s.total(Attribute.COLOR));
        assertEquals(9 / 10.0, s.fraction(), 1e-12);
    }

    @Test
    void theAssignmentIgnoresObjectOrderAndWrongPlacesCostPosition() {
        Scene prompt = image(Background.DARK_GRAY, CIRCLE, SQUARE);
        SceneObject movedSquare = SceneObject.still(Shape.SQUARE, ObjectColor.BLUE, Size.SMALL, 24, 8);
        AlignmentScore s = score(prompt, image(Background.DARK_GRAY, movedSquare, CIRCLE));
        assertEquals(1, s.hits(Attribute.POSITION));
        assertEquals(2, s.hits(Attribute.SHAPE));
        assertEquals(2, s.hits(Attribute.COLOR));
        assertEquals(9 / 10.0, s.fraction(), 1e-12);
    }

    @Test
    void aMissingObjectCostsTheCountAndAllItsAttributes() {
        AlignmentScore s = score(image(Background.BLACK, CIRCLE, SQUARE), image(Background.BLACK, CIRCLE));
        assertEquals(0, s.hits(Attribute.COUNT));
        assertEquals(1, s.hits(Attribute.SHAPE));
        assertEquals((1 + 4) / 10.0, s.fraction(), 1e-12);
    }

    @Test
    void anExtraObjectCostsOnlyTheCount() {
        AlignmentScore s = score(image(Background.LIGHT_GRAY, CIRCLE), image(Background.LIGHT_GRAY, CIRCLE, SQUARE));
        assertEquals(0, s.hits(Attribute.COUNT));
        assertEquals(5 / 6.0, s.fraction(), 1e-12);
    }

    @Test
    void aWrongBackgroundCostsTheBackground() {
        AlignmentScore s = score(image(Background.BLACK, CIRCLE), image(Background.DARK_BLUE, CIRCLE));
        assertEquals(0, s.hits(Attribute.BACKGROUND));
        assertEquals(5 / 6.0, s.fraction(), 1e-12);
    }

    @Test
    void videosScoreDirectionAndSpeedNotPosition() {
        SceneObject mover = new SceneObject(Shape.RING, ObjectColor.YELLOW, Size.LARGE, 20, 16, Direction.LEFT, Speed.SLOW);
        Scene prompt = new Scene(Kind.VIDEO, Background.BLACK, List.of(mover));
        SceneObject wrong = new SceneObject(Shape.RING, ObjectColor.YELLOW, Size.LARGE, 10, 16, Direction.RIGHT, Speed.FAST);
        AlignmentScore s = CaptionAlignment.score(prompt, ShapesAnalyzer.analyzeVideo(
                Renderer.renderVideo(new Scene(Kind.VIDEO, Background.BLACK, List.of(wrong)))));
        assertEquals(0, s.total(Attribute.POSITION));
        assertEquals(0, s.hits(Attribute.DIRECTION));
        assertEquals(0, s.hits(Attribute.SPEED));
        assertEquals(5 / 7.0, s.fraction(), 1e-12);
        AlignmentScore right = CaptionAlignment.score(prompt, ShapesAnalyzer.analyzeVideo(Renderer.renderVideo(prompt)));
        assertEquals(1.0, right.fraction());
    }

    @Test
    void aStillVideoHasNoDirection() {
        SceneObject mover = new SceneObject(Shape.SQUARE, ObjectColor.WHITE, Size.SMALL, 16, 16, Direction.UP, Speed.SLOW);
        Scene prompt = new Scene(Kind.VIDEO, Background.BLACK, List.of(mover));
        RgbImage still = Renderer.render(prompt.frame(0));
        VideoAnalysis a = ShapesAnalyzer.analyzeVideo(new RgbVideo(java.util.Collections.nCopies(16, still)));
        assertNull(a.tracks().getFirst().direction());
        AlignmentScore s = CaptionAlignment.score(prompt, a);
        assertEquals(0, s.hits(Attribute.DIRECTION) + s.hits(Attribute.SPEED));
    }

    @Test
    void rejectsAKindMismatch() {
        Scene prompt = image(Background.BLACK, CIRCLE);
        VideoAnalysis video = ShapesAnalyzer.analyzeVideo(new RgbVideo(List.of(Renderer.render(prompt))));
        assertThrows(IllegalArgumentException.class, () -> CaptionAlignment.score(prompt, video));
    }

    @Test
    void summaryAveragesOutputsAndPoolsAttributes() {
        AlignmentSummary summary = new AlignmentSummary();
        Scene prompt = image(Background.BLACK, CIRCLE, SQUARE);
        summary.add(score(prompt, prompt));
        summary.add(score(prompt, image(Background.BLACK, CIRCLE)));
        assertEquals((1.0 + 0.5) / 2, summary.mean(), 1e-12);
        assertEquals(3 / 4.0, summary.accuracy(Attribute.SHAPE), 1e-12);
        assertEquals(0.5, summary.accuracy(Attribute.COUNT), 1e-12);
        assertTrue(Double.isNaN(summary.accuracy(Attribute.SPEED)));
        assertFalse(summary.perAttribute().containsKey(Attribute.SPEED));
    }
}
