package dev.viditq.eval.run;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.eval.metrics.AlignmentScore;
import dev.viditq.eval.metrics.Attribute;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Samples where a model and its reference drew different scenes for the same prompt and noise — a fork of the
 * sampling trajectory — rather than the same scene with quantization noise. One fork scores a PSNR far below the
 * others (the two outputs disagree on a whole object: ~12 dB) and, pooled, can dominate or hide a comparison; so
 * the pooled PSNR is reported beside the per-sample median and 10th percentile, and the forks are named.
 *
 * <p>A sample is <b>forked</b> when both hold:
 * <ol>
 *   <li>its PSNR lies more than {@value #BELOW_MEDIAN_DB} dB below the median PSNR of the run — quantization noise
 *       spreads samples over a few dB (ViDiT-Q W8A8 on 32 captions: 31 of 32 within 5.4 dB of the median), a scene
 *       that differs in an object sits 20+ dB below it;</li>
 *   <li>the caption check differs: the analyzer recovers a different number of some attribute (shape, color, size,
 *       position, count, direction, speed, background) from the sample than from the reference's sample — the scene
 *       changed, not only its pixels.</li>
 * </ol>
 * Without ground truth (free text) the second test cannot be made: those samples are listed as {@code low_psnr}
 * only. Samples far below the median whose caption check agrees are listed as {@code low_psnr} too.
 */
public record Forks(List<Fork> forked, List<Integer> lowPsnr) {
    public static final double BELOW_MEDIAN_DB = 10;

    /** One forked sample: its PSNR, and what each model's sample missed of the caption. */
    public record Fork(int index, double psnr, String caption, String missed, String referenceMissed) {}

    /** @param scores, referenceScores null without ground truth */
    public static Forks of(FidelityScores fidelity, List<Sample> samples, ShapesScores scores, ShapesScores referenceScores) {
        double median = fidelity.medianPsnr();
        List<Fork> forked = new ArrayList<>();
        List<Integer> low = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            double psnr = fidelity.perSamplePsnr()[i];
            if (!(psnr < median - BELOW_MEDIAN_DB)) continue;
            int index = samples.get(i).prompt().index();
            if (scores == null || referenceScores == null
                    || sameCaptionCheck(scores.perSample().get(i), referenceScores.perSample().get(i))) {
                low.add(index);
                continue;
            }
            forked.add(new Fork(index, psnr, samples.get(i).prompt().caption(), ShapesScores.missed(scores.perSample().get(i)),
                    ShapesScores.missed(referenceScores.perSample().get(i))));
        }
        return new Forks(List.copyOf(forked), List.copyOf(low));
    }

    private static boolean sameCaptionCheck(AlignmentScore a, AlignmentScore b) {
        for (Attribute at : Attribute.values()) if (a.hits(at) != b.hits(at) || a.total(at) != b.total(at)) return false;
        return true;
    }

    /** The rule in words, for reports. */
    public static String rule() {
        return String.format(Locale.ROOT, "PSNR more than %.0f dB below the run's median and a different caption check "
                + "(analyzer hits per attribute) than the reference's sample", BELOW_MEDIAN_DB);
    }

    /**
     * Adds the per-sample fidelity fields to a report object: {@code psnr_median}, {@code psnr_p10},
     * {@code psnr_per_sample}, {@code forked} (index, psnr, caption, missed, reference_missed), {@code low_psnr},
     * {@code fork_rule}.
     */
    public static void put(ObjectNode o, FidelityScores f, Forks forks) {
        o.put("psnr_median", f.medianPsnr());
        o.put("psnr_p10", f.p10Psnr());
        ArrayNode per = o.putArray("psnr_per_sample");
        for (double v : f.perSamplePsnr()) per.add(v);
        ArrayNode fa = o.putArray("forked");
        for (Fork k : forks.forked()) {
            fa.addObject().put("index", k.index()).put("psnr", k.psnr()).put("caption", k.caption())
                    .put("missed", k.missed()).put("reference_missed", k.referenceMissed());
        }
        ArrayNode low = o.putArray("low_psnr");
        forks.lowPsnr().forEach(low::add);
        o.put("fork_rule", rule());
    }

    /** One line for a person: "per sample: median 36.2 dB, p10 30.8 dB; forked: #3 (12.1 dB)". */
    public static String describe(FidelityScores f, Forks forks) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "per sample: median %.2f dB, 10th percentile %.2f dB",
                f.medianPsnr(), f.p10Psnr()));
        b.append("; forked: ");
        if (forks.forked().isEmpty()) b.append("none");
        for (int i = 0; i < forks.forked().size(); i++) {
            Fork k = forks.forked().get(i);
            b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "#%d (%.1f dB)", k.index(), k.psnr()));
        }
        if (!forks.lowPsnr().isEmpty()) b.append("; low PSNR, scene unchanged or unchecked: ").append(forks.lowPsnr());
        return b.toString();
    }
}
