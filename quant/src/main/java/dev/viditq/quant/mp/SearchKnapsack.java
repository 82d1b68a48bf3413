package dev.viditq.quant.mp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The exact search: a multiple-choice knapsack whose items are the groups and whose options are all assignments of a
 * choice to each of the group's ranges (choices^ranges of them, 81 for 3 precisions and 4 ranges). Costing whole
 * groups keeps it exact for byte budgets too, where a group pays once per distinct bit width it stores.
 *
 * <p>Solved by dynamic programming over Pareto fronts: after each group, the set of reachable (cost, loss) states —
 * (bits, bytes, loss) when a byte cap comes with a bit budget — that no other reachable state beats in every
 * coordinate, with back pointers. Costs are exact integers (no rounding to a grid), so the plan it returns has the
 * true minimum of the summed normalised loss within the limits.
 */
public final class SearchKnapsack {
    /** Enumerating options is exponential in the ranges; beyond this per group it is refused. */
    private static final int MAX_OPTIONS = 1 << 16;
    /** A front this large means costs no longer collide; refused rather than running out of memory. */
    private static final int MAX_FRONT = 2_000_000;

    private SearchKnapsack() {}

    /** A reachable state: costs, loss, and how it was reached (previous state, option of this group). */
    private record State(long cost, long second, double loss, int parent, int option) {}

    private record Option(long cost, long second, double loss, int[] choice) {}

    public static SearchAllocation solve(SearchProblem p) {
        SearchGreedy.checkFeasible(p);
        long budget = p.budgetUnits(), cap = p.byteCap();
        List<List<Option>> options = new ArrayList<>();
        for (int g = 0; g < p.groups(); g++) options.add(groupFront(p, g, budget, cap));
        List<List<State>> fronts = new ArrayList<>();
        List<State> front = List.of(new State(0, 0, 0, -1, -1));
        for (int g = 0; g < p.groups(); g++) {
            List<Option> opts = options.get(g);
            if ((long) front.size() * opts.size() > 8L * MAX_FRONT) {
                throw new IllegalStateException("exact search too large (" + front.size() + " × " + opts.size() + " states); use --method viditq");
            }
            List<State> next = new ArrayList<>(front.size() * opts.size());
            for (int i = 0; i < front.size(); i++) {
                State s = front.get(i);
                for (int o = 0; o < opts.size(); o++) {
                    Option op = opts.get(o);
                    long c = s.cost() + op.cost(), c2 = s.second() + op.second();
                    if (c <= budget && c2 <= cap) next.add(new State(c, c2, s.loss() + op.loss(), i, o));
                }
            }
            front = paretoFront(next);
            if (front.size() > MAX_FRONT) throw new IllegalStateException("exact search front of " + front.size() + " states; use --method viditq");
            fronts.add(front);
        }
        int at = 0;
        for (int i = 1; i < front.size(); i++) if (front.get(i).loss() < front.get(at).loss()) at = i;
        int[][] choice = new int[p.groups()][];
        for (int g = p.groups() - 1; g >= 0; g--) {
            State s = fronts.get(g).get(at);
            choice[g] = options.get(g).get(s.option()).choice().clone();
            at = s.parent();
        }
        return SearchAllocation.of("knapsack", p, choice);
    }

    /**
     * The states no other state beats in cost, second cost and loss at once. Sorted by cost, a state survives when
     * no state kept before it has second cost and loss both at most its own; the kept (second cost → loss) pairs form
     * a staircase (loss falling as the second cost rises) that answers that with one floor lookup.
     */
    private static List<State> paretoFront(List<State> states) {
        states.sort(Comparator.comparingLong(State::cost).thenComparingLong(State::second).thenComparingDouble(State::loss));
        TreeMap<Long, Double> stair = new TreeMap<>();
        List<State> kept = new ArrayList<>();
        for (State s : states) {
            Map.Entry<Long, Double> floor = stair.floorEntry(s.second());
            if (floor != null && floor.getValue() <= s.loss()) continue;
            kept.add(s);
            stair.put(s.second(), s.loss());
            Iterator<Map.Entry<Long, Double>> it = stair.tailMap(s.second(), false).entrySet().iterator();
            while (it.hasNext()) {
                if (it.next().getValue() >= s.loss()) it.remove();
                else break;
            }
        }
        return kept;
    }

    /** The group's non-dominated options that fit the limits on their own. */
    private static List<Option> groupFront(SearchProblem p, int g, long budget, long cap) {
        int k = p.choices(), r = p.ranges();
        double count = Math.pow(k, r);
        if (count > MAX_OPTIONS) {
            throw new IllegalArgumentException(k + " precisions over " + r + " ranges give " + (long) count
                    + " options per group, too many for the exact search; use fewer candidates (--candidates) or --method viditq");
        }
        List<State> all = new ArrayList<>();
        List<int[]> choices = new ArrayList<>();
        int[] choice = new int[r];
        for (int i = 0; i < (int) count; i++) {
            int v = i;
            for (int j = 0; j < r; j++) {
                choice[j] = v % k;
                v /= k;
            }
            if (p.sameForAllRanges() && java.util.Arrays.stream(choice).distinct().count() > 1) continue;
            if (!p.storable(choice)) continue; // candidates of different weight methods cannot share a layer
            long c = p.groupCost(g, choice), c2 = p.groupSecondCost(g, choice);
            if (c <= budget && c2 <= cap) {
                all.add(new State(c, c2, p.groupLoss(g, choice), -1, choices.size()));
                choices.add(choice.clone());
            }
        }
        List<Option> front = new ArrayList<>();
        for (State s : paretoFront(all)) front.add(new Option(s.cost(), s.second(), s.loss(), choices.get(s.option())));
        return front;
    }
}
