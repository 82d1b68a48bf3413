package dev.viditq.quant.mp;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
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
 *
 * <p><b>Methods.</b> Candidates may differ in weight method as well as bits ({@link MethodCandidate}: W4A8-gptq-g64,
 * W4A8-lr16-gptq, ...). A layer stores one integer weight per bit width and at most one low-rank branch, so a group
 * may combine candidates over its ranges only when they share one weight method (grouping, GPTQ, rank); other
 * combinations are no option of either search. When any candidate names its method, costs are stored bytes
 * (integers, scales, zero points and low-rank factors, {@link SearchStorage}), and a bit budget means stored bits
 * per quantized weight: bits × weights / 8 bytes. Dominance (see Losses) holds only between candidates of one
 * weight method.
 */
public final class SearchProblem {
    private final SearchInput input;
    private final List<Integer> candidates;
    private final SearchBudget budget;
    private final SearchStorage storage;
    private final QuantConfig preset;
    /** The weight method of each choice (index as {@link #candidates}). */
    private final MethodCandidate.WeightMethod[] methods;
    /** True when some candidate names its weight method: costs are then stored bytes. */
    private final boolean methodSearch;
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
        this(input, candidateNames, budget, storage, mseWeight, QuantConfigReader.preset("viditq-w4a8"));
    }

    /**
     * @param preset the config the sensitivity measured with: the weight method of bits-only candidates, and the GPTQ
     *               settings of explicit ones
     */
    public SearchProblem(SearchInput input, List<String> candidateNames, SearchBudget budget, SearchStorage storage, double mseWeight,
                         QuantConfig preset) {
        this.input = input;
        this.preset = preset;
        this.storage = storage;
        this.candidates = chooseCandidates(input, candidateNames, storage, preset);
        this.methods = new MethodCandidate.WeightMethod[candidates.size()];
        boolean explicit = false;
        for (int k = 0; k < methods.length; k++) {
            MethodCandidate c = input.candidates().get(candidates.get(k)).spec();
            methods[k] = c.resolve(preset);
            explicit |= c.explicit();
        }
        this.methodSearch = explicit;
        this.budget = budget;
        this.mseWeight = mseWeight;
        if (budget.kind() == SearchBudget.Kind.BYTES && storage == null) {
            throw new IllegalArgumentException("a byte budget needs the layer shapes: give --model DIR (the model the sensitivity was measured on)");
        }
        if (methodSearch && storage == null) {
            throw new IllegalArgumentException("candidates that differ in method are costed in stored bytes, which needs the layer shapes: "
                    + "give --model DIR (the model the sensitivity was measured on)");
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

    /**
     * Candidate indices of the input, ordered by (weight bits, activation bits, stored bytes of all the groups'
     * layers), fewest first.
     */
    private static List<Integer> chooseCandidates(SearchInput input, List<String> names, SearchStorage storage, QuantConfig preset) {
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
                .thenComparingInt(i -> input.candidates().get(i).activationBits())
                .thenComparingLong(i -> storage == null ? 0 : modelBytes(input, storage, input.candidates().get(i).spec().resolve(preset),
                        input.candidates().get(i).weightBits())));
        return List.copyOf(out);
    }

    private static long modelBytes(SearchInput input, SearchStorage storage, MethodCandidate.WeightMethod m, int bits) {
        long b = 0;
        for (SearchInput.Group g : input.groups()) {
            for (String layer : g.layers()) b += storage.bytes(layer, bits, m.groupSize()) + storage.branchBytes(layer, m.lowRank());
        }
        return b;
    }

    /** Candidates are sorted fewest bits first; a candidate dominated by a later one gets at least its loss. */
    private void monotone(double[] v) {
        for (int lo = v.length - 1; lo >= 0; lo--) {
            for (int hi = lo + 1; hi < v.length; hi++) {
                if (dominates(hi, lo)) v[lo] = Math.max(v[lo], v[hi]);
            }
        }
    }

    /** More (or as many) weight and activation bits of the same weight method. */
    private boolean dominates(int a, int b) {
        Candidate x = candidate(a), y = candidate(b);
        boolean sameMethod = (!x.spec().explicit() && !y.spec().explicit()) || methods[a].equals(methods[b]);
        return sameMethod && x.weightBits() >= y.weightBits() && x.activationBits() >= y.activationBits();
    }

    /** The weight method choice {@code k} runs with. */
    public MethodCandidate.WeightMethod method(int k) {
        return methods[k];
    }

    /** The config the plan starts from (bits-only candidates run its weight method). */
    public QuantConfig preset() {
        return preset;
    }

    /** True when some candidate names its weight method (costs are then stored bytes). */
    public boolean methodSearch() {
        return methodSearch;
    }

    /**
     * True when a group can run this choice per range: all its candidates share one weight method (a layer stores
     * one integer weight per bit width and one low-rank branch).
     */
    public boolean storable(int[] choice) {
        for (int k : choice) if (!methods[k].equals(methods[choice[0]])) return false;
        return true;
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
        return costsBytes() ? groupBytes(g, choice) : groupBitCost(g, choice);
    }

    /** True when costs are stored bytes: a byte budget, or any budget over candidates that differ in method. */
    public boolean costsBytes() {
        return budget.kind() == SearchBudget.Kind.BYTES || methodSearch;
    }

    /** Σ over ranges of weight params × steps × weight bits. */
    public long groupBitCost(int g, int[] choice) {
        long params = input.groups().get(g).weightParams(), c = 0;
        for (int r = 0; r < choice.length; r++) c += params * input.ranges().get(r).steps() * candidate(choice[r]).weightBits();
        return c;
    }

    /**
     * Stored bytes of the group's layers: every distinct (weight bit width, grouping) its ranges use, once, and each
     * distinct low-rank branch once.
     */
    public long groupBytes(int g, int[] choice) {
        java.util.Set<List<Integer>> widths = new java.util.LinkedHashSet<>();
        java.util.Set<Integer> ranks = new java.util.TreeSet<>();
        for (int k : choice) {
            widths.add(List.of(candidate(k).weightBits(), methods[k].groupSize()));
            ranks.add(methods[k].lowRank());
        }
        long b = 0;
        for (String layer : input.groups().get(g).layers()) {
            for (List<Integer> w : widths) b += storage.bytes(layer, w.get(0), w.get(1));
            for (int r : ranks) b += storage.branchBytes(layer, r);
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
        if (methodSearch) return (long) Math.floor(budget.value() * input.totalWeightParams() / 8 * (1 + 1e-12)); // stored bits per weight
        // tolerance: 4.5 × an exact multiple must not fall one unit short through rounding
        return (long) Math.floor(budget.value() * totalParamSteps() * (1 + 1e-12));
    }

    /** Σ weight params × all steps: the denominator of the average bits. */
    public long totalParamSteps() {
        return input.totalWeightParams() * input.steps();
    }

    /** A cost in budget units as the user reads it. */
    public String describeCost(long units) {
        return !costsBytes()
                ? String.format(Locale.ROOT, "%.3f average weight bits", units / (double) totalParamSteps())
                : units + " stored weight bytes" + String.format(Locale.ROOT, " (%.3f stored bits per weight)", storedBitsPerWeight(units));
    }

    /** Stored bytes as bits per quantized weight of the groups' layers. */
    public double storedBitsPerWeight(long bytes) {
        return bytes * 8.0 / input.totalWeightParams();
    }

    /** Every group at its cheapest single candidate (the fewest bits when candidates differ in bits only). */
    public int[][] cheapest() {
        int[][] out = new int[groups()][ranges()];
        for (int g = 0; g < groups(); g++) {
            int best = 0;
            long bestCost = Long.MAX_VALUE;
            for (int k = 0; k < choices(); k++) {
                int[] all = new int[ranges()];
                java.util.Arrays.fill(all, k);
                long c = groupCost(g, all);
                if (c < bestCost) {
                    best = k;
                    bestCost = c;
                }
            }
            java.util.Arrays.fill(out[g], best);
        }
        return out;
    }
}
