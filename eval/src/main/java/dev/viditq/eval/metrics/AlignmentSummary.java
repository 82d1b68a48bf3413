package dev.viditq.eval.metrics;

import java.util.EnumMap;
import java.util.Map;

/**
 * Caption alignment over many outputs: the mean over outputs of the fraction of attributes recovered, and per
 * attribute the fraction of its occurrences recovered (pooled over outputs).
 */
public final class AlignmentSummary {
    private final int[] hits = new int[Attribute.values().length];
    private final int[] totals = new int[Attribute.values().length];
    private double fractionSum;
    private int count;

    public synchronized void add(AlignmentScore score) {
        for (Attribute a : Attribute.values()) {
            hits[a.ordinal()] += score.hits(a);
            totals[a.ordinal()] += score.total(a);
        }
        fractionSum += score.fraction();
        count++;
    }

    public synchronized int count() {
        return count;
    }

    /** Mean per-output fraction of attributes recovered; NaN before any output. */
    public synchronized double mean() {
        return count == 0 ? Double.NaN : fractionSum / count;
    }

    /** Fraction of the attribute's occurrences recovered; NaN when no prompt stated it. */
    public synchronized double accuracy(Attribute a) {
        return totals[a.ordinal()] == 0 ? Double.NaN : hits[a.ordinal()] / (double) totals[a.ordinal()];
    }

    /** Attribute → accuracy, for the attributes some prompt stated. */
    public synchronized Map<Attribute, Double> perAttribute() {
        Map<Attribute, Double> m = new EnumMap<>(Attribute.class);
        for (Attribute a : Attribute.values()) {
            if (totals[a.ordinal()] > 0) m.put(a, accuracy(a));
        }
        return m;
    }
}
