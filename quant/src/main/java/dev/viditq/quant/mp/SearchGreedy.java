package dev.viditq.quant.mp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The ViDiT-Q-MP allocation as the paper describes it (its code was never released): start with every (group,
 * range) at the fewest bits; split the remaining budget across the groups in proportion to their MSE sensitivity
 * (normalised output MSE at the fewest bits minus at the most bits, summed over the ranges); then, inside each
 * group and its share, raise ranges greedily by the group's own metric — the move (range, higher precision) with
 * the largest loss reduction per unit of cost first — until no move fits the share. Budget a group cannot use (its
 * share was too small for a move, or it ran out of moves) is pooled and offered to the groups again, most
 * MSE-sensitive first. Moves that reduce no loss are never taken.
 */
public final class SearchGreedy {
    private SearchGreedy() {}

    public static SearchAllocation solve(SearchProblem p) {
        checkFeasible(p);
        int[][] choice = p.cheapest();
        long budget = p.budgetUnits(), spent = 0;
        long[] second = {0}; // bytes of the whole allocation when a byte cap applies
        for (int g = 0; g < p.groups(); g++) {
            spent += p.groupCost(g, choice[g]);
            second[0] += p.groupSecondCost(g, choice[g]);
        }
        long extra = budget - spent;
        double[] sensitivity = mseSensitivity(p);
        double total = 0;
        for (double s : sensitivity) total += s;
        long used = 0;
        for (int g = 0; g < p.groups(); g++) {
            long share = (long) Math.floor(extra * (sensitivity[g] / total));
            used += spendWithin(p, g, choice[g], share, second);
        }
        long pool = extra - used;
        List<Integer> order = new ArrayList<>();
        for (int g = 0; g < p.groups(); g++) order.add(g);
        order.sort(Comparator.comparingDouble((Integer g) -> -sensitivity[g]));
        for (int g : order) pool -= spendWithin(p, g, choice[g], pool, second);
        return SearchAllocation.of("viditq", p, choice);
    }

    /** Refuses a budget below every-group-at-the-fewest-bits, naming that minimum. */
    static void checkFeasible(SearchProblem p) {
        long min = 0;
        int[][] cheapest = p.cheapest();
        for (int g = 0; g < p.groups(); g++) min += p.groupCost(g, cheapest[g]);
        java.util.Set<String> at = new java.util.TreeSet<>();
        for (int[] c : cheapest) at.add(p.candidate(c[0]).name());
        String where = at.size() == 1 ? "every group at " + at.iterator().next() : "every group at its cheapest candidate";
        if (min > p.budgetUnits()) {
            throw new IllegalArgumentException("budget " + p.budget() + " is infeasible: the minimum is " + p.describeCost(min)
                    + " (" + where + ")");
        }
        long minBytes = 0;
        for (int g = 0; g < p.groups(); g++) minBytes += p.groupSecondCost(g, cheapest[g]);
        if (minBytes > p.byteCap()) {
            throw new IllegalArgumentException("--max-bytes " + p.byteCap() + " is infeasible: the minimum is " + minBytes
                    + " stored weight bytes (" + where + ")");
        }
    }

    /** Per group: Σ over ranges of normalised MSE at the fewest bits minus at the most bits (never < 0). */
    private static double[] mseSensitivity(SearchProblem p) {
        double[] s = new double[p.groups()];
        double sum = 0;
        int last = p.choices() - 1;
        for (int g = 0; g < p.groups(); g++) {
            for (int r = 0; r < p.ranges(); r++) s[g] += Math.max(0, p.mse(g, r, 0) - p.mse(g, r, last));
            sum += s[g];
        }
        if (sum <= 0) { // no MSE signal at all: split by size
            for (int g = 0; g < p.groups(); g++) s[g] = p.input().groups().get(g).weightParams();
        }
        return s;
    }

    /**
     * Raises ranges of group g within {@code share} cost units, keeping the allocation's bytes ({@code second[0]})
     * within the byte cap; returns the units spent (may be < 0 for bytes).
     */
    private static long spendWithin(SearchProblem p, int g, int[] choice, long share, long[] second) {
        long spent = 0;
        while (true) {
            long before = p.groupCost(g, choice), beforeSecond = p.groupSecondCost(g, choice);
            double beforeLoss = p.groupLoss(g, choice);
            int bestRange = -1, bestChoice = -1;
            double bestRatio = 0;
            long bestDelta = 0;
            for (int r = 0; r < p.ranges(); r++) {
                if (p.sameForAllRanges() && r > 0) break; // moves then raise every range at once
                int keep = choice[r];
                int[] saved = choice.clone();
                for (int k = 0; k < p.choices(); k++) {
                    if (k == keep) continue; // a move to fewer bits never gains (losses are monotone); one to another method may
                    if (p.sameForAllRanges()) java.util.Arrays.fill(choice, k);
                    else choice[r] = k;
                    if (!p.storable(choice)) {
                        System.arraycopy(saved, 0, choice, 0, choice.length);
                        continue;
                    }
                    long delta = p.groupCost(g, choice) - before;
                    long bytesAfter = second[0] - beforeSecond + p.groupSecondCost(g, choice);
                    double gain = beforeLoss - p.groupLoss(g, choice);
                    if (gain > 1e-12 && spent + delta <= share && bytesAfter <= p.byteCap()) {
                        // a move that costs nothing (a width the group stores already) ranks above any paid one
                        double ratio = delta <= 0 ? Double.POSITIVE_INFINITY : gain / delta;
                        if (bestRange < 0 || ratio > bestRatio) {
                            bestRange = r;
                            bestChoice = k;
                            bestRatio = ratio;
                            bestDelta = delta;
                        }
                    }
                }
                System.arraycopy(saved, 0, choice, 0, choice.length);
            }
            if (bestRange < 0) return spent;
            if (p.sameForAllRanges()) java.util.Arrays.fill(choice, bestChoice);
            else choice[bestRange] = bestChoice;
            second[0] += p.groupSecondCost(g, choice) - beforeSecond;
            spent += bestDelta;
        }
    }
}
