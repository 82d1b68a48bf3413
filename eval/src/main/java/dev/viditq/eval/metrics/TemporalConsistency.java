package dev.viditq.eval.metrics;

import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.eval.shapes.ShapesAnalyzer;
import dev.viditq.eval.shapes.Track;
import dev.viditq.eval.shapes.VideoAnalysis;

/**
 * Temporal consistency of a generated Shapes video; every measure is 0 for a perfect render and grows with
 * inconsistency. Object measures are means over the analyzer's tracks (NaN when it found none).
 *
 * @param trajectoryResidual root-mean-square distance (pixels) of an object's centroids from the straight line
 *                           fitted through them: jitter of the motion
 * @param colorDrift         root-mean-square distance (RGB in [0, 1]) of an object's per-frame core color from its
 *                           mean core color
 * @param sizeVariation      coefficient of variation (std / mean) of an object's per-frame area
 * @param backgroundFlicker  mean absolute frame-to-frame difference (RGB in [0, 1]) over the pixels that are clean
 *                           background (not within 2 px of an object) in both frames
 * @param trackCoverage      fraction of frames in which an object was found (1 = in every frame)
 */
public record TemporalConsistency(double trajectoryResidual, double colorDrift, double sizeVariation,
                                  double backgroundFlicker, double trackCoverage) {

    public static TemporalConsistency of(RgbVideo video, VideoAnalysis analysis) {
        double residual = 0, color = 0, size = 0, coverage = 0;
        int tracks = analysis.tracks().size();
        for (Track t : analysis.tracks()) {
            residual += t.fitResidual();
            color += colorDrift(t.coreColor());
            size += variation(t.area());
            coverage += t.frames().length / (double) video.length();
        }
        double nan = Double.NaN;
        return new TemporalConsistency(tracks == 0 ? nan : residual / tracks, tracks == 0 ? nan : color / tracks,
                tracks == 0 ? nan : size / tracks, backgroundFlicker(video, analysis.backgroundRgb()),
                tracks == 0 ? nan : coverage / tracks);
    }

    static double colorDrift(float[][] colors) {
        double[] mean = new double[3];
        for (float[] c : colors) for (int i = 0; i < 3; i++) mean[i] += c[i] / (double) colors.length;
        double sum = 0;
        for (float[] c : colors) {
            for (int i = 0; i < 3; i++) sum += (c[i] - mean[i]) * (c[i] - mean[i]);
        }
        return Math.sqrt(sum / colors.length);
    }

    static double variation(double[] values) {
        double mean = 0;
        for (double v : values) mean += v / values.length;
        double var = 0;
        for (double v : values) var += (v - mean) * (v - mean) / values.length;
        return mean == 0 ? 0 : Math.sqrt(var) / mean;
    }

    /** NaN for a one-frame video or when no pixel is background in two consecutive frames. */
    static double backgroundFlicker(RgbVideo video, float[] backgroundRgb) {
        double sum = 0;
        long n = 0;
        boolean[] previousMask = ShapesAnalyzer.objectMask(video.frame(0), backgroundRgb);
        for (int t = 1; t < video.length(); t++) {
            RgbImage a = video.frame(t - 1), b = video.frame(t);
            boolean[] mask = ShapesAnalyzer.objectMask(b, backgroundRgb);
            for (int p = 0; p < mask.length; p++) {
                if (mask[p] || previousMask[p]) continue;
                for (int c = 0; c < 3; c++) sum += Math.abs(a.data()[p * 3 + c] - b.data()[p * 3 + c]);
                n += 3;
            }
            previousMask = mask;
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
