package dev.viditq.eval.run;

import dev.viditq.eval.metrics.Fidelity;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Renderer;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.eval.shapes.Split;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class FidelityScoresTest {

    private static List<Sample> videos(int count) {
        List<Sample> out = new ArrayList<>();
        for (EvalPrompt p : EvalPrompts.shapes(Kind.VIDEO, Split.EVAL, count)) out.add(new Sample(p, Renderer.renderVideo(p.truth())));
        return out;
    }

    /** Adds N(0, sigma) to every value of frames from {@code fromFrame} on. */
    private static List<Sample> noisy(List<Sample> samples, int fromFrame, double sigma, long seed) {
        Random r = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            List<RgbImage> frames = new ArrayList<>();
            for (int t = 0; t < s.video().length(); t++) {
                RgbImage f = s.video().frame(t).copy();
                if (t >= fromFrame) for (int i = 0; i < f.data().length; i++) f.data()[i] += (float) (sigma * r.nextGaussian());
                frames.add(f);
            }
            out.add(new Sample(s.prompt(), new RgbVideo(frames)));
        }
        return out;
    }

    @Test
    void identicalSamplesAreInfinitelyCloseWithSsimOne() {
        List<Sample> v = videos(3);
        FidelityScores f = FidelityScores.of(v, v);
        assertEquals(Double.POSITIVE_INFINITY, f.psnr());
        assertEquals(1.0, f.ssim(), 1e-9);
        assertEquals(16, f.psnrPerFrame().length);
        for (double s : f.ssimPerFrame()) assertEquals(1.0, s, 1e-9);
    }

    @Test
    void psnrPoolsTheErrorOverSamplesAndFrames() {
        List<Sample> ref = videos(3), out = noisy(ref, 8, 0.05, 7);
        FidelityScores f = FidelityScores.of(ref, out);
        double mse = 0;
        for (int i = 0; i < ref.size(); i++) {
            for (int t = 0; t < 16; t++) mse += Fidelity.mse(ref.get(i).video().frame(t), out.get(i).video().frame(t)) / (3 * 16);
        }
        assertEquals(10 * Math.log10(1 / mse), f.psnr(), 1e-9);
        for (int t = 0; t < 8; t++) assertEquals(Double.POSITIVE_INFINITY, f.psnrPerFrame()[t], "untouched frame " + t);
        for (int t = 8; t < 16; t++) {
            assertEquals(-10 * Math.log10(0.05 * 0.05), f.psnrPerFrame()[t], 0.3, "noise of sigma 0.05 on frame " + t);
            assertTrue(f.ssimPerFrame()[t] < 0.99);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(Fidelity.compare(ref.get(i).video(), out.get(i).video()).ssim(), f.perSampleSsim()[i], 1e-12);
        }
    }

    @Test
    void mismatchedListsAreRejected() {
        List<Sample> v = videos(2);
        assertThrows(IllegalArgumentException.class, () -> FidelityScores.of(v, v.subList(0, 1)));
    }
}
