package dev.viditq.eval.shapes;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.metrics.AlignmentSummary;
import dev.viditq.eval.metrics.Attribute;
import dev.viditq.eval.metrics.CaptionAlignment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ShapesAnalyzerTest {
    private static final int IMAGES = 300, VIDEOS = 120;

    /** Per-attribute accuracy of the analyzer on (optionally degraded) renders of random training scenes. */
    private static Map<Attribute, Double> accuracy(Kind kind, int count, double noise, double blur) {
        Random random = new Random(42);
        AlignmentSummary summary = new AlignmentSummary();
        for (int i = 0; i < count; i++) {
            Scene scene = ShapesGenerator.train(kind, 17, i).scene();
            if (kind == Kind.IMAGE) {
                RgbImage img = Degrade.image(Renderer.render(scene), noise, blur, random);
                summary.add(CaptionAlignment.score(scene, ShapesAnalyzer.analyzeImage(img)));
            } else {
                RgbVideo video = Degrade.video(Renderer.renderVideo(scene), noise, blur, random);
                summary.add(CaptionAlignment.score(scene, ShapesAnalyzer.analyzeVideo(video)));
            }
        }
        return summary.perAttribute();
    }

    private static void assertAtLeast(double floor, Map<Attribute, Double> accuracy, int attributes) {
        assertEquals(attributes, accuracy.size(), "attributes scored: " + accuracy);
        accuracy.forEach((a, acc) -> assertTrue(acc >= floor, a + " accuracy " + acc + " < " + floor + ": " + accuracy));
    }

    @Test
    void readsCleanImagesBackAlmostPerfectly() {
        assertAtLeast(0.98, accuracy(Kind.IMAGE, IMAGES, 0, 0), 6);
    }

    @Test
    void readsCleanVideosBackAlmostPerfectly() {
        assertAtLeast(0.98, accuracy(Kind.VIDEO, VIDEOS, 0, 0), 7);
    }

    @Test
    void toleratesMildNoiseAndBlur() {
        assertAtLeast(0.95, accuracy(Kind.IMAGE, IMAGES, 0.04, 0.6), 6);
        assertAtLeast(0.95, accuracy(Kind.VIDEO, VIDEOS / 2, 0.04, 0.6), 7);
    }

    @Test
    void measuresCenterAndMotion() {
        SceneObject o = new SceneObject(Shape.TRIANGLE, ObjectColor.CYAN, Size.LARGE, 9.3, 15.2, Direction.RIGHT, Speed.FAST);
        VideoAnalysis a = ShapesAnalyzer.analyzeVideo(Renderer.renderVideo(new Scene(Kind.VIDEO, Background.DARK_GRAY, List.of(o))));
        Track t = a.tracks().getFirst();
        assertEquals(1.0, t.velocityX(), 0.02);
        assertEquals(0.0, t.velocityY(), 0.02);
        assertEquals(16, t.frames().length);
        DetectedObject first = a.frames().getFirst().objects().getFirst();
        assertEquals(9.3, first.x(), 0.1, "box center, not centroid");
        assertEquals(15.2, first.y(), 0.1);
        assertEquals(15.2 + 7.0 / 3, first.centroidY(), 0.1, "a triangle's centroid lies a third of its half-height low");
    }

    @Test
    void anObjectWhoseMeanColorIsTheBackgroundStillHasACenter() {
        // half white, half black on mid gray: projecting on the mean "core" color explains nothing
        RgbImage img = RgbImage.filled(32, 32, new float[]{0.5f, 0.5f, 0.5f});
        for (int y = 10; y < 20; y++) {
            for (int x = 10; x < 20; x++) {
                for (int c = 0; c < 3; c++) img.set(x, y, c, x < 15 ? 1f : 0f);
            }
        }
        List<DetectedObject> objects = ShapesAnalyzer.analyzeImage(img).objects();
        assertEquals(1, objects.size());
        assertEquals(15, objects.getFirst().x(), 1.0);
        assertEquals(15, objects.getFirst().y(), 1.0);
    }

    @Test
    void emptyFrameHasNoObjects() {
        RgbImage blank = RgbImage.filled(32, 32, Background.LIGHT_GRAY.rgb01());
        ImageAnalysis a = ShapesAnalyzer.analyzeImage(blank);
        assertEquals(Background.LIGHT_GRAY, a.background());
        assertEquals(List.of(), a.objects());
        VideoAnalysis v = ShapesAnalyzer.analyzeVideo(new RgbVideo(List.of(blank, blank)));
        assertEquals(List.of(), v.tracks());
    }

    @Test
    void readsPngFilesAndTensors(@TempDir Path dir) {
        Scene scene = ShapesGenerator.train(Kind.IMAGE, 3, 1).scene();
        RgbImage img = Renderer.render(scene);
        Path png = dir.resolve("x.png");
        ImageFiles.writePng(img, png, 1);
        RgbImage back = ImageFiles.readPng(png);
        for (int i = 0; i < img.data().length; i++) assertEquals(img.data()[i], back.data()[i], 0.5 / 255 + 1e-6);

        float[] chw = new float[3 * 32 * 32];
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < 32 * 32; p++) chw[c * 1024 + p] = img.data()[p * 3 + c] * 2 - 1;
        }
        RgbImage fromTensor = RgbImage.fromTensor(Tensor.of(chw, 3, 32, 32), true, -1, 1);
        for (int i = 0; i < img.data().length; i++) assertEquals(img.data()[i], fromTensor.data()[i], 1e-6);
        assertEquals(1.0, CaptionAlignment.score(scene, ShapesAnalyzer.analyzeImage(fromTensor)).fraction());
        assertThrows(IllegalArgumentException.class, () -> RgbImage.fromTensor(Tensor.of(chw, 3, 32, 32), false, 0, 1));
    }
}
