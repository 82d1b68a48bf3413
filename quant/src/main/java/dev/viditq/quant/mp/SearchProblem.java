package dev.viditq.quant.mp;

import dev.viditq.quant.mp.SearchInput.Candidate;
import dev.viditq.quant.mp.SearchInput.Entry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The allocation problem both searches solve: choose one candidate precision for every (group, range) so that the
 * cost fits the budget and the summed normalised loss is smallest.
 *
 * <p><b>Losses.</b> Each group is judged by its own metric (cross-attention: caption alignment, temporal attention:
 * temporal consistency, self-attention and MLP: fidelity to float), measured with that group alone quantized in
 * that range. Metrics have different units, so before they are added each metric's deltas are divided by its
 * <i>scale</i>: the mean, over the (group, range) cells judged by that metric, of the delta at the fewest bits minus
 * the delta at the most bits. One unit of loss is thus "the damage of an average cell of that metric dropped from the
 * most to the fewest bits", whatever the metric. (When a metric shows no such damage, the mean absolute delta is the
 * scale, and 1 when that is 0 too.) Optionally the output MSE, normalised the same way, is added with a weight.
 * Measured deltas are noisy; a precision that dominates another (no fewer weight or activation bits) is never
 * credited with a larger loss: loss(fewer bits) = max(its own, loss(more bits)).
 *
 * <p><b>Costs.</b> With a bit budget a cell costs weight params × steps of the range × weight bits (additive over
 * cells; the average is that sum over params × all steps). With a byte budget a group costs the bytes of every
 * distinct bit width its ranges use ({@link SearchStorage}); that is not additive over ranges, so both searches cost
 * whole groups.
 */
public final class SearchProblem {
    private final SearchInput input;
    private final List<Integer> candidates;
    private final SearchBudget budget;
    private final SearchStorage storage;
    private final double[][][] loss, mse;
    private final Map<String, Double> metricScales = new LinkedHashMap<>();
    private final double mseScale;
    private final double mseWeight;
    private long byteCap = Long.MAX_VALUE;
    private boolean sameForAllRanges;

    /**
     * @param candidateNames the candidates to choose from (null: all of the sensitivity's)
     * @param storage        layer shapes for byte costs and byte reports, or null (then only a bit budget works)
     * @param mseWeight      weight of the normalised output MSE added to the metric loss (0: metrics only)
     */
    public SearchProblem(SearchInput input, List<String> candidateNames, SearchBudget budget, SearchStorage storage, double mseWeight) {
        this.input = input;
        this.candidates = chooseCandidates(input, candidateNames);
        this.budget = budget;
        this.storage = storage;
        this.mseWeight = mseWeight;
        if (budget.kind() == SearchBudget.Kind.BYTES && storage == null) {
            throw new IllegalArgumentException("a byte budget needs the layer shapes: give --model DIR (the model the sensitivity was measured on)");
        }
        if (!(mseWeight >= 0) || !Double.isFinite(mseWeight)) throw new IllegalArgumentException("--mse-weight must be >= 0, is " + mseWeight);
        int g = input.groups().size(), r = input.ranges().size(), k = candidates.size();
        double[][][] delta = new double[g][r][k], err = new double[g][r][k];
        for (int gi = 0; gi < g; gi++) {
            for (int ri = 0; ri < r; ri++) {
                for (int ki = 0; ki < k; ki++) {
                    Entry e = input.entries()[gi][ri][candidates.get(ki)];
                    delta[gi][ri][ki] = e.metricDelta();
                    err[gi][ri][ki] = e.mse();
                }
                monotone(delta[gi][ri]);
                monotone(err[gi][ri]);
            }
        }
        Map<String, List<double[]>> byMetric = new LinkedHashMap<>();
        for (int gi = 0; gi < g; gi++) {
            for (int ri = 0; ri < r; ri++) byMetric.computeIfAbsent(metric(gi, ri), m -> new ArrayList<>()).add(delta[gi][ri]);
        }
        byMetric.forEach((m, cells) -> metricScales.put(m, scale(cells)));
        List<double[]> all = new ArrayList<>();
        for (double[][] gr : err) all.addAll(List.of(gr));
        this.mseScale = scale(all);
        this.loss = new double[g][r][k];
        this.mse = new double[g][r][k];
        for (int gi = 0; gi < g; gi++) {
            for (int ri = 0; ri < r; ri++) {
                double s = metricScales.get(metric(gi, ri));
                for (int ki = 0; ki < k; ki++) {
                    mse[gi][ri][ki] = err[gi][ri][ki] / mseScale;
                    loss[gi][ri][ki] = delta[gi][ri][ki] / s + mseWeight * mse[gi][ri][ki];
                }
            }
        }
    }

    /** Candidate indices of the input, ordered by (weight bits, activation bits), fewest first. */
    private static List<Integer> chooseCandidates(SearchInput input, List<String> names) {
        List<Integer> out = new ArrayList<>();
        if (names == null || names.isEmpty()) {
            for (int i = 0; i < input.candidates().size(); i++) out.add(i);
        } else {
            for (String n : names) {
                int i = input.candidateIndex(n.trim());
                if (i < 0) {
                    throw new IllegalArgumentException("candidate " + n + " was not measured; the sensitivity has "
                            + input.candidates().stream().map(Candidate::name).toList());
                }
                if (!out.contains(i)) out.add(i);
            }
        }
        out.sort(Comparator.comparingInt((Integer i) -> input.candidates().get(i).weightBits())
                .thenComparingInt(i -> input.candidates().get(i).activationBits()));
        return List.copyOf(out);
    }

    /** Candidates are sorted fewest bits first; a candidate dominated by a later one gets at least its loss. */
    private void monotone(double[] v) {
        for (int lo = v.length - 1; lo >= 0; lo--) {
            for (int hi = lo + 1; hi < v.length; hi++) {
                if (dominates(hi, lo)) v[lo] = Math.max(v[lo], v[hi]);
            }
        }
    }

    private boolean dominates(int a, int b) {
        Candidate x = candidate(a), y = candidate(b);
        return x.weightBits() >= y.weightBits() && x.activationBits() >= y.activationBits();
    }

    /** Mean (fewest-bits delta − most-bits delta) over the cells; fallbacks as the class comment says. */
    private static double scale(List<double[]> cells) {
        double spread = 0, abs = 0;
        int n = 0;
        for (double[] c : cells) {
            spread += c[0] - c[c.length - 1];
            for (double v : c) abs += Math.abs(v);
            n += c.length;
        }
        spread /= cells.size();
        if (spread > 1e-12) return spread;
        abs /= n;
        return abs > 1e-12 ? abs : 1;
    }

    /**
     * Adds a second limit to a bit budget: the stored bytes (every width a layer needs counted). Both searches then
     * respect both limits; the knapsack stays exact (its fronts become (bits, bytes, loss) fronts).
     */
    public SearchProblem withByteCap(SearchBudget cap) {
        if (cap.kind() != SearchBudget.Kind.BYTES) throw new IllegalArgumentException("--max-bytes needs a byte amount with a unit (e.g. 4MiB), got " + cap);
        if (budget.kind() != SearchBudget.Kind.BITS) throw new IllegalArgumentException("--max-bytes goes with a bit budget; the budget is already in bytes");
        if (storage == null) throw new IllegalArgumentException("--max-bytes needs the layer shapes: give --model DIR");
        byteCap = (long) cap.value();
        return this;
    }

    /**
     * Restricts every group to one precision for all its ranges (the sensitivity still decides which, from the
     * summed loss of its ranges). Switching a layer's precision between steps changes the model in the middle of a
     * multistep solver's history; this option avoids that, at the cost of the timestep dimension.
     */
    public SearchProblem withSameForAllRanges(boolean same) {
        this.sameForAllRanges = same;
        return this;
    }

    public boolean sameForAllRanges() {
        return sameForAllRanges;
    }

    /** The byte limit besides the budget, or Long.MAX_VALUE. */
    public long byteCap() {
        return byteCap;
    }

    /** True when a byte limit applies besides a bit budget. */
    public boolean hasByteCap() {
        return byteCap != Long.MAX_VALUE;
    }

    /** The group's bytes when a byte cap applies, else 0 (the knapsack's second cost). */
    public long groupSecondCost(int g, int[] choice) {
        return hasByteCap() ? groupBytes(g, choice) : 0;
    }

    public SearchInput input() {
        return input;
    }

    public SearchBudget budget() {
        return budget;
    }

    public SearchStorage storage() {
        return storage;
    }

    public double mseWeight() {
        return mseWeight;
    }

    public int groups() {
        return input.groups().size();
    }

    public int ranges() {
        return input.ranges().size();
    }

    /** Number of candidates to choose from. */
    public int choices() {
        return candidates.size();
    }

    /** The k-th choice (0 = fewest bits). */
    public Candidate candidate(int k) {
        return input.candidates().get(candidates.get(k));
    }

    public String metric(int g, int r) {
        return input.entries()[g][r][0].metric();
    }

    public Map<String, Double> metricScales() {
        return metricScales;
    }

    public double mseScale() {
        return mseScale;
    }

    /** Normalised loss of group g at choice k in range r. */
    public double loss(int g, int r, int k) {
        return loss[g][r][k];
    }

    /** Normalised output MSE of group g at choice k in range r (the ViDiT-Q split uses it). */
    public double mse(int g, int r, int k) {
        return mse[g][r][k];
    }

    public double groupLoss(int g, int[] choice) {
        double s = 0;
        for (int r = 0; r < choice.length; r++) s += loss[g][r][choice[r]];
        return s;
    }

    /** The group's cost in budget units (param·step·bits, or bytes) for one choice per range. */
    public long groupCost(int g, int[] choice) {
        return budget.kind() == SearchBudget.Kind.BITS ? groupBitCost(g, choice) : groupBytes(g, choice);
    }

    /** Σ over ranges of weight params × steps × weight bits. */
    public long groupBitCost(int g, int[] choice) {
        long params = input.groups().get(g).weightParams(), c = 0;
        for (int r = 0; r < choice.length; r++) c += params * input.ranges().get(r).steps() * candidate(choice[r]).weightBits();
        return c;
    }

    /** Stored bytes of the group's layers: every distinct weight bit width its ranges use, once. */
    public long groupBytes(int g, int[] choice) {
        long b = 0;
        for (int bits : distinctWeightBits(choice)) {
            for (String layer : input.groups().get(g).layers()) b += storage.bytes(layer, bits);
        }
        return b;
    }

    /** The weight bit widths a group with this choice stores. */
    public java.util.SortedSet<Integer> distinctWeightBits(int[] choice) {
        java.util.SortedSet<Integer> bits = new java.util.TreeSet<>();
        for (int k : choice) bits.add(candidate(k).weightBits());
        return bits;
    }

    /** The budget in cost units. */
    public long budgetUnits() {
        if (budget.kind() == SearchBudget.Kind.BYTES) return (long) budget.value();
        // tolerance: 4.5 × an exact multiple must not fall one unit short through rounding
        return (long) Math.floor(budget.value() * totalParamSteps() * (1 + 1e-12));
    }

    /** Σ weight params × all steps: the denominator of the average bits. */
    public long totalParamSteps() {
        return input.totalWeightParams() * input.steps();
    }

    /** A cost in budget units as the user reads it. */
    public String describeCost(long units) {
        return budget.kind() == SearchBudget.Kind.BITS
                ? String.format(Locale.ROOT, "%.3f average weight bits", units / (double) totalParamSteps())
                : units + " stored weight bytes";
    }

    /** Everything at the fewest bits: the cheapest allocation. */
    public int[][] cheapest() {
        return new int[groups()][ranges()];
    }
}
