package dev.viditq.eval.metrics;

import java.util.EnumMap;
import java.util.Map;

/** How many of a prompt's stated attributes were recovered from one output, per attribute. */
public final class AlignmentScore {
    private final int[] hits = new int[Attribute.values().length];
    private final int[] totals = new int[Attribute.values().length];

    void count(Attribute a, boolean hit) {
        totals[a.ordinal()]++;
        if (hit) hits[a.ordinal()]++;
    }

    public int hits(Attribute a) { return hits[a.ordinal()]; }
    public int total(Attribute a) { return totals[a.ordinal()]; }

    public int hits() {
        int n = 0;
        for (int h : hits) n += h;
        return n;
    }

    public int total() {
        int n = 0;
        for (int t : totals) n += t;
        return n;
    }

    /** Fraction of all stated attributes recovered, in [0, 1]. */
    public double fraction() {
        return hits() / (double) total();
    }

    /** Attribute → fraction recovered, for the attributes the prompt states. */
    public Map<Attribute, Double> perAttribute() {
        Map<Attribute, Double> m = new EnumMap<>(Attribute.class);
        for (Attribute a : Attribute.values()) {
            if (total(a) > 0) m.put(a, hits(a) / (double) total(a));
        }
        return m;
    }

    @Override
    public String toString() {
        return hits() + "/" + total() + " " + perAttribute();
    }
}
