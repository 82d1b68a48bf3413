package dev.viditq.eval.metrics;

import dev.viditq.eval.shapes.*;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TemporalConsistencyTest {
    private static TemporalConsistency measure(RgbVideo video) {
        return TemporalConsistency.of(video, ShapesAnalyzer.analyzeVideo(video));
    }

    @Test
    void groundTruthRendersAreConsistent() {
        for (int i = 0; i < 20; i++) {
            Scene scene = ShapesGenerator.train(Kind.VIDEO, 21, i).scene();
            TemporalConsistency c = measure(Renderer.renderVideo(scene));
            assertTrue(c.trajectoryResidual() < 0.05, "residual " + c);
            assertTrue(c.colorDrift() < 0.02, "color " + c);
            assertTrue(c.sizeVariation() < 0.03, "size " + c);
            assertEquals(0.0, c.backgroundFlicker());
            assertEquals(1.0, c.trackCoverage());
        }
    }

    @Test
    void jitteredMotionShowsAsTrajectoryResidual() {
        double amplitude = 0.75;
        List<RgbImage> frames = new ArrayList<>();
        double[] t = new double[16], x = new double[16];
        for (int f = 0; f < 16; f++) {
            t[f] = f;
            x[f] = 8 + 0.5 * f + (f % 2 == 0 ? amplitude : -amplitude);
            frames.add(Renderer.render(new Scene(Kind.IMAGE, Background.BLACK,
                    List.of(SceneObject.still(Shape.SQUARE, ObjectColor.GREEN, Size.LARGE, x[f], 16)))));
        }
        TemporalConsistency c = measure(new RgbVideo(frames));
        assertEquals(rmsResidualOfLineFit(t, x), c.trajectoryResidual(), 0.03);
        assertTrue(c.trajectoryResidual() > 0.6, c.toString());
    }

    /** Least-squares line through (t, x), written out independently of the analyzer's fit. */
    private static double rmsResidualOfLineFit(double[] t, double[] x) {
        int n = t.length;
        double st = 0, sx = 0, stt = 0, stx = 0;
        for (int i = 0; i < n; i++) {
            st += t[i];
            sx += x[i];
            stt += t[i] * t[i];
            stx += t[i] * x[i];
        }
        double slope = (n * stx - st * sx) / (n * stt - st * st), intercept = (sx - slope * st) / n;
        double ss = 0;
        for (int i = 0; i < n; i++) ss += Math.pow(x[i] - intercept - slope * t[i], 2);
        return Math.sqrt(ss / n);
    }

    @Test
    void backgroundFlickerIsTheMeanFrameToFrameChange() {
        Scene scene = new Scene(Kind.VIDEO, Background.DARK_GRAY,
                List.of(new SceneObject(Shape.CIRCLE, ObjectColor.RED, Size.SMALL, 10, 16, Direction.RIGHT, Speed.SLOW)));
        RgbVideo clean = Renderer.renderVideo(scene);
        double delta = 0.02;
        List<RgbImage> frames = new ArrayList<>();
        for (int f = 0; f < clean.length(); f++) {
            float[] d = clean.frame(f).data().clone();
            for (int i = 0; i < d.length; i++) d[i] += (float) (f % 2 == 0 ? delta : 0);
            frames.add(new RgbImage(32, 32, d));
        }
        assertEquals(delta, measure(new RgbVideo(frames)).backgroundFlicker(), 1e-4);
    }

    @Test
    void fadingColorShowsAsColorDriftAndShrinkingAsSizeVariation() {
        List<RgbImage> frames = new ArrayList<>();
        for (int f = 0; f < 16; f++) {
            double diameter = 14 - f * 0.3;
            float[] d = RgbImage.filled(32, 32, Background.BLACK.rgb01()).data();
            float[] cover = new float[32 * 32];
            Renderer.coverage(Shape.SQUARE, 16, 16, diameter, cover, 32, 32);
            float red = 1f - f * 0.02f;
            for (int p = 0; p < cover.length; p++) d[p * 3] = cover[p] * red;
            frames.add(new RgbImage(32, 32, d));
        }
        TemporalConsistency c = measure(new RgbVideo(frames));
        double meanRed = 1 - 0.02 * 7.5, driftExpected = 0;
        for (int f = 0; f < 16; f++) driftExpected += Math.pow(1 - f * 0.02 - meanRed, 2) / 16;
        assertEquals(Math.sqrt(driftExpected), c.colorDrift(), 0.01);
        assertTrue(c.sizeVariation() > 0.1, c.toString());
    }
}
