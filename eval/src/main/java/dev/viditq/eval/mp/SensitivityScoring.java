package dev.viditq.eval.mp;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.metrics.TemporalConsistency;
import dev.viditq.eval.run.EvalPrompt;
import dev.viditq.eval.run.FidelityScores;
import dev.viditq.eval.run.Sample;
import dev.viditq.eval.run.ShapesScores;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.nn.media.Frames;

import java.util.ArrayList;
import java.util.List;

/** Scores a generated batch against the float run's (docs/MIXED_PRECISION.md, "Metrics"). */
final class SensitivityScoring {
    /**
     * Noise floors of the temporal components (trajectory px, color, size, flicker, 1 − coverage): about what the
     * analyzer measures on ground-truth renders, so that a float value near 0 does not blow a ratio up.
     */
    static final double[] TEMPORAL_EPSILON = {0.05, 0.02, 0.03, 0.005, 0.05};

    private SensitivityScoring() {}

    /**
     * What one run produced and the analyzer read from it.
     *
     * @param pixels  the output clamped to [−1, 1], flattened
     * @param samples the 8-bit samples
     * @param scores  the analyzer's scores (alignment, motion, temporal consistency)
     */
    record Outcome(float[] pixels, List<Sample> samples, ShapesScores scores) {
        double alignment() {
            return scores.alignment();
        }

        boolean video() {
            return scores.temporal() != null;
        }

        /** Inconsistency components, each 0 when perfect (coverage turned into 1 − coverage); null for images. */
        double[] inconsistency() {
            TemporalConsistency t = scores.temporal();
            if (t == null) return null;
            return new double[]{t.trajectoryResidual(), t.colorDrift(), t.sizeVariation(), t.backgroundFlicker(), 1 - t.trackCoverage()};
        }

        /** The components as reported (coverage as is). */
        double[] temporalComponents() {
            TemporalConsistency t = scores.temporal();
            if (t == null) return null;
            return new double[]{t.trajectoryResidual(), t.colorDrift(), t.sizeVariation(), t.backgroundFlicker(), t.trackCoverage()};
        }
    }

    static Outcome outcome(Tensor pixels, List<EvalPrompt> prompts) {
        List<Sample> samples = new ArrayList<>(prompts.size());
        for (int b = 0; b < prompts.size(); b++) samples.add(new Sample(prompts.get(b), video(pixels, b)));
        float[] p = pixels.toFloatArray();
        for (int i = 0; i < p.length; i++) p[i] = Math.max(-1f, Math.min(1f, p[i]));
        return new Outcome(p, samples, ShapesScores.of(samples));
    }

    /** Entry fields of {@code run} against {@code reference}, for a group judged by {@code metric}. */
    static SensitivityEntry entry(Outcome reference, Outcome run, SensitivityGroups.Group group, int range, String precision,
                                  int weightBits, int activationBits, double seconds) {
        FidelityScores fidelity = FidelityScores.of(reference.samples(), run.samples());
        double alignment = run.alignment(), alignmentDelta = reference.alignment() - alignment;
        double fidelityDelta = 1 - fidelity.ssim();
        double motion = Double.NaN, motionDelta = Double.NaN, temporal = Double.NaN, temporalDelta = Double.NaN;
        if (run.video()) {
            motion = run.scores().motionAccuracy();
            motionDelta = reference.scores().motionAccuracy() - motion;
            temporal = relativeInconsistency(reference.inconsistency(), run.inconsistency());
            temporalDelta = temporal - 1;
        }
        String metric = group.kind().metric();
        double value, delta;
        switch (metric) {
            case "alignment" -> { value = alignment; delta = alignmentDelta; }
            case "temporal" -> { value = temporal; delta = temporalDelta; }
            default -> { value = fidelity.ssim(); delta = fidelityDelta; }
        }
        return new SensitivityEntry(group.name(), group.kind().id(), range, precision, weightBits, activationBits, metric, value, delta,
                mse(reference.pixels(), run.pixels()), fidelity.psnr(), fidelity.ssim(), alignment, alignmentDelta, fidelityDelta,
                motion, motionDelta, temporal, temporalDelta, run.temporalComponents(), seconds);
    }

    /**
     * 1 + the mean over components defined in both runs of (q − f) / (f + ε): 1 when as consistent as float, 1.5
     * when on average 50% more inconsistent. 1 when no component is defined in both.
     */
    static double relativeInconsistency(double[] reference, double[] run) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < reference.length; i++) {
            if (Double.isNaN(reference[i]) || Double.isNaN(run[i])) continue;
            sum += (run[i] - reference[i]) / (reference[i] + TEMPORAL_EPSILON[i]);
            n++;
        }
        return n == 0 ? 1 : 1 + sum / n;
    }

    static double mse(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("outputs of " + a.length + " and " + b.length + " values");
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            sum += d * d;
        }
        return sum / a.length;
    }

    /** Sample {@code b} of pixels [B, 3, H, W] or [B, 3, F, H, W] in [−1, 1] as the 8-bit frames a saved file holds. */
    static RgbVideo video(Tensor pixels, int b) {
        if (pixels.rank() != 4 && pixels.rank() != 5 || pixels.size(1) != 3) {
            throw new IllegalArgumentException("expected RGB pixels [B, 3, (F,) H, W], got " + pixels);
        }
        int frames = pixels.rank() == 5 ? pixels.size(2) : 1;
        int h = pixels.size(pixels.rank() - 2), w = pixels.size(pixels.rank() - 1);
        long plane = (long) h * w, channel = frames * plane, base = b * 3 * channel;
        List<RgbImage> out = new ArrayList<>(frames);
        for (int f = 0; f < frames; f++) {
            float[] hwc = new float[w * h * 3];
            for (int c = 0; c < 3; c++) {
                long start = base + c * channel + f * plane;
                for (int p = 0; p < plane; p++) hwc[p * 3 + c] = Frames.toByte(pixels.getFloat(start + p)) / 255f;
            }
            out.add(new RgbImage(w, h, hwc));
        }
        return new RgbVideo(out);
    }
}
