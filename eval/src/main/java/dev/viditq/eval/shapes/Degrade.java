package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The damage a model output might show, Gaussian blur then Gaussian noise, clamped to [0, 1]: used to check
 * that the analyzer degrades gracefully ({@code ./viditq shapes check --noise 0.04 --blur 0.6}).
 */
public final class Degrade {
    private Degrade() {}

    public static RgbImage image(RgbImage in, double noiseSigma, double blurSigma, Random random) {
        int w = in.width(), h = in.height();
        float[] d = blurSigma > 0 ? blur(in.data(), w, h, blurSigma) : in.data().clone();
        for (int i = 0; i < d.length; i++) d[i] = (float) Math.clamp(d[i] + noiseSigma * random.nextGaussian(), 0, 1);
        return new RgbImage(w, h, d);
    }

    public static RgbVideo video(RgbVideo in, double noiseSigma, double blurSigma, Random random) {
        List<RgbImage> frames = new ArrayList<>();
        for (RgbImage f : in.frames()) frames.add(image(f, noiseSigma, blurSigma, random));
        return new RgbVideo(frames);
    }

    /** Separable Gaussian blur with edge clamping. */
    private static float[] blur(float[] src, int w, int h, double sigma) {
        int radius = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.length; i++) k[i] /= sum;
        float[] rows = new float[src.length], out = new float[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int i = -radius; i <= radius; i++) acc += k[i + radius] * src[(y * w + Math.clamp(x + i, 0, w - 1)) * 3 + c];
                    rows[(y * w + x) * 3 + c] = (float) acc;
                }
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int i = -radius; i <= radius; i++) acc += k[i + radius] * rows[(Math.clamp(y + i, 0, h - 1) * w + x) * 3 + c];
                    out[(y * w + x) * 3 + c] = (float) acc;
                }
            }
        }
        return out;
    }
}
