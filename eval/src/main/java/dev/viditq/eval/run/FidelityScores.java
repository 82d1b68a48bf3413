package dev.viditq.eval.run;

import dev.viditq.eval.metrics.Fidelity;

import java.util.List;

/**
 * Fidelity of samples to a reference model's samples for the same prompts and seeds ({@link Fidelity}: PSNR on
 * RGB in [0, 1], SSIM per channel with an 11×11 Gaussian window).
 *
 * @param psnr         PSNR of the squared error pooled over every sample, frame, pixel and channel (+∞ only when
 *                     every sample is identical to its reference); pooling keeps one identical sample from making
 *                     the mean infinite
 * @param ssim         mean over samples of the sample SSIM (videos: mean of frame SSIMs)
 * @param perSamplePsnr each sample's PSNR (+∞ when identical), in sample order
 * @param perSampleSsim each sample's SSIM
 * @param psnrPerFrame  videos: frame t's PSNR with the error pooled over the samples; one entry for images
 * @param ssimPerFrame  videos: frame t's SSIM averaged over the samples
 */
public record FidelityScores(double psnr, double ssim, double[] perSamplePsnr, double[] perSampleSsim,
                             double[] psnrPerFrame, double[] ssimPerFrame) {

    public static FidelityScores of(List<Sample> reference, List<Sample> samples) {
        if (reference.size() != samples.size()) {
            throw new IllegalArgumentException(reference.size() + " reference samples for " + samples.size() + " samples");
        }
        int n = samples.size(), frames = samples.getFirst().video().length();
        double[] samplePsnr = new double[n], sampleSsim = new double[n], frameMse = new double[frames], frameSsim = new double[frames];
        double mseSum = 0;
        for (int i = 0; i < n; i++) {
            var ref = reference.get(i).video();
            var out = samples.get(i).video();
            if (ref.length() != frames || out.length() != frames) {
                throw new IllegalArgumentException("sample " + i + " has " + out.length() + " frames, its reference " + ref.length()
                        + "; expected " + frames);
            }
            double sampleMse = 0, ssimSum = 0;
            for (int t = 0; t < frames; t++) {
                double mse = Fidelity.mse(ref.frame(t), out.frame(t));
                double ssim = Fidelity.ssim(ref.frame(t), out.frame(t));
                frameMse[t] += mse / n;
                frameSsim[t] += ssim / n;
                sampleMse += mse / frames;
                ssimSum += ssim;
            }
            samplePsnr[i] = psnrOf(sampleMse);
            sampleSsim[i] = ssimSum / frames;
            mseSum += sampleMse;
        }
        double[] framePsnr = new double[frames];
        for (int t = 0; t < frames; t++) framePsnr[t] = psnrOf(frameMse[t]);
        double meanSsim = 0;
        for (double s : sampleSsim) meanSsim += s / n;
        return new FidelityScores(psnrOf(mseSum / n), meanSsim, samplePsnr, sampleSsim, framePsnr, frameSsim);
    }

    /** The median of the per-sample PSNRs (mean of the middle two for an even count; identical samples count as +∞). */
    public double medianPsnr() {
        double[] s = sortedPsnr();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] == s[n / 2] ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
    }

    /** The 10th percentile of the per-sample PSNRs, by nearest rank: the ⌈0.1·n⌉-th lowest (n = 32: the 4th lowest). */
    public double p10Psnr() {
        double[] s = sortedPsnr();
        return s[Math.max(0, (int) Math.ceil(0.1 * s.length) - 1)];
    }

    private double[] sortedPsnr() {
        double[] s = perSamplePsnr.clone();
        java.util.Arrays.sort(s);
        return s;
    }

    static double psnrOf(double mse) {
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }
}
