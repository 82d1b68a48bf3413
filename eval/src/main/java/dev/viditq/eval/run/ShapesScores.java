package dev.viditq.eval.run;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.eval.metrics.AlignmentScore;
import dev.viditq.eval.metrics.AlignmentSummary;
import dev.viditq.eval.metrics.Attribute;
import dev.viditq.eval.metrics.CaptionAlignment;
import dev.viditq.eval.metrics.TemporalConsistency;
import dev.viditq.eval.shapes.ShapesAnalyzer;
import dev.viditq.eval.shapes.VideoAnalysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * What the analyzer reads from generated samples against their ground-truth scenes: caption alignment (overall
 * and per attribute), for videos motion accuracy and temporal consistency.
 *
 * @param perSample      each sample's alignment, in sample order
 * @param motionAccuracy videos: fraction of the stated motion attributes (direction and speed of every prompt
 *                       object) recovered, pooled; NaN for images
 * @param temporal       videos: each {@link TemporalConsistency} measure averaged over the videos where it is
 *                       defined; null for images
 * @param untracked      videos in which the analyzer followed no object (their object measures are undefined)
 * @param byObjects      objects in the prompt (1 or 2) → alignment of those prompts: attribute binding across two
 *                       objects is the hard part for a small model, and this separates it from drawing one object
 */
public record ShapesScores(AlignmentSummary summary, List<AlignmentScore> perSample, double motionAccuracy,
                           TemporalConsistency temporal, int untracked, SortedMap<Integer, AlignmentSummary> byObjects) {

    /** Analyses every sample (in parallel); each needs a ground-truth scene. */
    public static ShapesScores of(List<Sample> samples) {
        int n = samples.size();
        AlignmentScore[] scores = new AlignmentScore[n];
        TemporalConsistency[] temporal = new TemporalConsistency[n];
        Parallel.forEach(n, i -> {
            Sample s = samples.get(i);
            if (!s.prompt().hasTruth()) throw new IllegalArgumentException("prompt " + i + " has no ground truth to score against");
            if (s.isImage()) {
                scores[i] = CaptionAlignment.score(s.prompt().truth(), ShapesAnalyzer.analyzeImage(s.image()));
            } else {
                VideoAnalysis a = ShapesAnalyzer.analyzeVideo(s.video());
                scores[i] = CaptionAlignment.score(s.prompt().truth(), a);
                temporal[i] = TemporalConsistency.of(s.video(), a);
            }
        });
        AlignmentSummary summary = new AlignmentSummary();
        SortedMap<Integer, AlignmentSummary> byObjects = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            summary.add(scores[i]);
            byObjects.computeIfAbsent(samples.get(i).prompt().truth().objects().size(), k -> new AlignmentSummary()).add(scores[i]);
        }
        boolean video = !samples.getFirst().isImage();
        int untracked = video ? (int) Arrays.stream(temporal).filter(t -> Double.isNaN(t.trackCoverage())).count() : 0;
        return new ShapesScores(summary, List.of(scores), video ? motionAccuracy(scores) : Double.NaN,
                video ? meanTemporal(temporal) : null, untracked, Collections.unmodifiableSortedMap(byObjects));
    }

    public double alignment() {
        return summary.mean();
    }

    /** Pooled hits over pooled occurrences of direction and speed. */
    static double motionAccuracy(AlignmentScore[] scores) {
        int hits = 0, total = 0;
        for (AlignmentScore s : scores) {
            hits += s.hits(Attribute.DIRECTION) + s.hits(Attribute.SPEED);
            total += s.total(Attribute.DIRECTION) + s.total(Attribute.SPEED);
        }
        return total == 0 ? Double.NaN : hits / (double) total;
    }

    static TemporalConsistency meanTemporal(TemporalConsistency[] all) {
        return new TemporalConsistency(mean(all, TemporalConsistency::trajectoryResidual), mean(all, TemporalConsistency::colorDrift),
                mean(all, TemporalConsistency::sizeVariation), mean(all, TemporalConsistency::backgroundFlicker),
                mean(all, TemporalConsistency::trackCoverage));
    }

    /** Mean of the defined (non-NaN) values; NaN when none is. */
    private static double mean(TemporalConsistency[] all, ToDoubleFunction<TemporalConsistency> field) {
        return Arrays.stream(all).mapToDouble(field).filter(v -> !Double.isNaN(v)).average().orElse(Double.NaN);
    }

    /** The attributes a sample's prompt stated but the analyzer did not recover, e.g. "color, position". */
    public static String missed(AlignmentScore s) {
        List<String> out = new ArrayList<>();
        for (Attribute a : Attribute.values()) {
            if (s.hits(a) < s.total(a)) out.add(a.id());
        }
        return String.join(", ", out);
    }
}
