package dev.viditq.eval.metrics;

import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class FidelityTest {
    private static RgbImage random(int w, int h, long seed) {
        Random r = new Random(seed);
        float[] d = new float[w * h * 3];
        for (int i = 0; i < d.length; i++) d[i] = r.nextFloat();
        return new RgbImage(w, h, d);
    }

    private static RgbImage map(RgbImage img, java.util.function.IntToDoubleFunction value) {
        float[] d = new float[img.data().length];
        for (int i = 0; i < d.length; i++) d[i] = (float) value.applyAsDouble(i);
        return new RgbImage(img.width(), img.height(), d);
    }

    @Test
    void identicalImagesHaveInfinitePsnrAndSsimOne() {
        RgbImage a = random(32, 32, 1);
        assertEquals(Double.POSITIVE_INFINITY, Fidelity.psnr(a, a.copy()));
        assertEquals(1.0, Fidelity.ssim(a, a.copy()), 1e-12);
    }

    @Test
    void psnrOfAKnownErrorIsExact() {
        RgbImage a = RgbImage.filled(32, 32, new float[]{0.5f, 0.5f, 0.5f});
        double delta = 0.1;
        RgbImage b = map(a, i -> 0.5 + (i % 2 == 0 ? delta : -delta));
        assertEquals(-20 * Math.log10(delta), Fidelity.psnr(a, b), 1e-4); // 20 dB
    }

    @Test
    void psnrOfGaussianNoiseMatchesItsSigma() {
        RgbImage a = RgbImage.filled(64, 64, new float[]{0.5f, 0.5f, 0.5f});
        Random r = new Random(3);
        for (double sigma : new double[]{0.01, 0.05, 0.1}) {
            RgbImage b = map(a, i -> 0.5 + sigma * r.nextGaussian());
            assertEquals(-20 * Math.log10(sigma), Fidelity.psnr(a, b), 0.15, "sigma " + sigma);
        }
    }

    @Test
    void ssimOfConstantImagesIsTheLuminanceTerm() {
        double x = 0.2, y = 0.7, c1 = 1e-4;
        RgbImage a = RgbImage.filled(16, 16, new float[]{(float) x, (float) x, (float) x});
        RgbImage b = RgbImage.filled(16, 16, new float[]{(float) y, (float) y, (float) y});
        double fx = (float) x, fy = (float) y;
        assertEquals((2 * fx * fy + c1) / (fx * fx + fy * fy + c1), Fidelity.ssim(a, b), 1e-9);
    }

    @Test
    void separableSsimMatchesADirectTwoDimensionalWindow() {
        int w = 17, h = 13;
        RgbImage a = random(w, h, 5), b = random(w, h, 6);
        double[] g = Fidelity.gaussian(11, 1.5);
        double expected = 0;
        for (int c = 0; c < 3; c++) {
            double[] x = Fidelity.channel(a, c), y = Fidelity.channel(b, c);
            double sum = 0;
            int windows = 0;
            for (int oy = 0; oy + 11 <= h; oy++) {
                for (int ox = 0; ox + 11 <= w; ox++) {
                    double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
                    for (int i = 0; i < 11; i++) {
                        for (int j = 0; j < 11; j++) {
                            double wt = g[i] * g[j], px = x[(oy + i) * w + ox + j], py = y[(oy + i) * w + ox + j];
                            mx += wt * px;
                            my += wt * py;
                            xx += wt * px * px;
                            yy += wt * py * py;
                            xy += wt * px * py;
                        }
                    }
                    double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
                    sum += (2 * mx * my + 1e-4) * (2 * cov + 9e-4) / ((mx * mx + my * my + 1e-4) * (vx + vy + 9e-4));
                    windows++;
                }
            }
            expected += sum / windows / 3;
        }
        assertEquals(expected, Fidelity.ssim(a, b), 1e-9);
        assertEquals(Fidelity.ssim(a, b), Fidelity.ssim(b, a), 1e-12, "symmetric");
    }

    @Test
    void ssimFallsAsNoiseGrows() {
        RgbImage a = random(32, 32, 7);
        Random r = new Random(8);
        double previous = 1;
        for (double sigma : new double[]{0.01, 0.05, 0.2}) {
            RgbImage b = map(a, i -> a.data()[i] + sigma * r.nextGaussian());
            double s = Fidelity.ssim(a, b);
            assertTrue(s < previous && s > -1, "sigma " + sigma + ": " + s);
            previous = s;
        }
    }

    @Test
    void rejectsMismatchedSizes() {
        assertThrows(IllegalArgumentException.class, () -> Fidelity.psnr(random(32, 32, 1), random(16, 32, 1)));
        assertThrows(IllegalArgumentException.class, () -> Fidelity.ssim(random(8, 8, 1), random(8, 8, 2)));
    }

    @Test
    void videoFidelityIsPerFrameAndPooled() {
        RgbImage a = random(32, 32, 1), b = random(32, 32, 2);
        RgbImage shifted = map(a, i -> a.data()[i] + 0.1);
        Fidelity.VideoFidelity f = Fidelity.compare(new RgbVideo(List.of(a, b)), new RgbVideo(List.of(shifted, b.copy())));
        assertEquals(Fidelity.psnr(a, shifted), f.framePsnr()[0], 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, f.framePsnr()[1]);
        assertEquals(-10 * Math.log10(Fidelity.mse(a, shifted) / 2), f.psnr(), 1e-9, "MSE pooled over both frames");
        assertEquals((Fidelity.ssim(a, shifted) + 1) / 2, f.ssim(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Fidelity.compare(new RgbVideo(List.of(a)), new RgbVideo(List.of(a, b))));
    }
}
