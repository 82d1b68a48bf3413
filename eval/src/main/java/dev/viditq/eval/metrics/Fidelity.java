package dev.viditq.eval.metrics;

import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;

/**
 * Fidelity of an output to a reference output (same prompt, same seed), e.g. a quantized model against the
 * full-precision one. Images are RGB with values in [0, 1] (data range 1).
 * <ul>
 *   <li>PSNR = 10·log10(1 / MSE), MSE over all pixels and channels; +∞ for identical images.</li>
 *   <li>SSIM as in Wang et al. 2004: 11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, computed on each
 *       RGB channel separately over the "valid" window positions (no padding: a 32×32 image gives a 22×22 map),
 *       averaged over the map and then over the three channels.</li>
 *   <li>Videos: both per frame; the video PSNR pools the MSE over all frames, the video SSIM is the mean
 *       of the frame SSIMs.</li>
 * </ul>
 */
public final class Fidelity {
    public static final int SSIM_WINDOW = 11;
    public static final double SSIM_SIGMA = 1.5;
    private static final double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
    private static final double[] KERNEL = gaussian(SSIM_WINDOW, SSIM_SIGMA);

    private Fidelity() {}

    /** Per-frame and pooled fidelity of a video. */
    public record VideoFidelity(double[] framePsnr, double[] frameSsim, double psnr, double ssim) {}

    public static double mse(RgbImage reference, RgbImage output) {
        requireSameSize(reference, output);
        float[] a = reference.data(), b = output.data();
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            sum += d * d;
        }
        return sum / a.length;
    }

    public static double psnr(RgbImage reference, RgbImage output) {
        return psnrOfMse(mse(reference, output));
    }

    static double psnrOfMse(double mse) {
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }

    /** Mean SSIM over the three RGB channels. */
    public static double ssim(RgbImage reference, RgbImage output) {
        requireSameSize(reference, output);
        if (reference.width() < SSIM_WINDOW || reference.height() < SSIM_WINDOW) {
            throw new IllegalArgumentException("SSIM needs images of at least " + SSIM_WINDOW + "x" + SSIM_WINDOW
                    + ", got " + reference.width() + "x" + reference.height());
        }
        double sum = 0;
        for (int c = 0; c < 3; c++) sum += ssimChannel(channel(reference, c), channel(output, c), reference.width(), reference.height());
        return sum / 3;
    }

    public static VideoFidelity compare(RgbVideo reference, RgbVideo output) {
        if (reference.length() != output.length()) {
            throw new IllegalArgumentException("videos differ in length: " + reference.length() + " vs " + output.length() + " frames");
        }
        int n = reference.length();
        double[] psnr = new double[n], ssim = new double[n];
        double mseSum = 0, ssimSum = 0;
        for (int t = 0; t < n; t++) {
            double mse = mse(reference.frame(t), output.frame(t));
            mseSum += mse;
            psnr[t] = psnrOfMse(mse);
            ssim[t] = ssim(reference.frame(t), output.frame(t));
            ssimSum += ssim[t];
        }
        return new VideoFidelity(psnr, ssim, psnrOfMse(mseSum / n), ssimSum / n);
    }

    /** Mean of the SSIM map of one channel (values row-major, w×h). */
    static double ssimChannel(double[] x, double[] y, int w, int h) {
        int n = w * h;
        double[] xx = new double[n], yy = new double[n], xy = new double[n];
        for (int i = 0; i < n; i++) {
            xx[i] = x[i] * x[i];
            yy[i] = y[i] * y[i];
            xy[i] = x[i] * y[i];
        }
        double[] mx = blur(x, w, h), my = blur(y, w, h), exx = blur(xx, w, h), eyy = blur(yy, w, h), exy = blur(xy, w, h);
        double sum = 0;
        for (int i = 0; i < mx.length; i++) {
            double vx = exx[i] - mx[i] * mx[i], vy = eyy[i] - my[i] * my[i], cov = exy[i] - mx[i] * my[i];
            sum += (2 * mx[i] * my[i] + C1) * (2 * cov + C2) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
        }
        return sum / mx.length;
    }

    /** Separable Gaussian filter over valid positions only: output (w-10)×(h-10). */
    private static double[] blur(double[] v, int w, int h) {
        int k = KERNEL.length, ow = w - k + 1, oh = h - k + 1;
        double[] rows = new double[ow * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < ow; x++) {
                double s = 0;
                for (int i = 0; i < k; i++) s += KERNEL[i] * v[y * w + x + i];
                rows[y * ow + x] = s;
            }
        }
        double[] out = new double[ow * oh];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                double s = 0;
                for (int i = 0; i < k; i++) s += KERNEL[i] * rows[(y + i) * ow + x];
                out[y * ow + x] = s;
            }
        }
        return out;
    }

    static double[] gaussian(int size, double sigma) {
        double[] g = new double[size];
        double sum = 0;
        for (int i = 0; i < size; i++) {
            double d = i - (size - 1) / 2.0;
            g[i] = Math.exp(-d * d / (2 * sigma * sigma));
            sum += g[i];
        }
        for (int i = 0; i < size; i++) g[i] /= sum;
        return g;
    }

    static double[] channel(RgbImage img, int c) {
        float[] d = img.data();
        double[] out = new double[img.width() * img.height()];
        for (int i = 0; i < out.length; i++) out[i] = d[i * 3 + c];
        return out;
    }

    private static void requireSameSize(RgbImage a, RgbImage b) {
        if (!a.sameSize(b)) {
            throw new IllegalArgumentException("images differ in size: " + a.width() + "x" + a.height() + " vs " + b.width() + "x" + b.height());
        }
    }
}
