package dev.viditq.quant.mp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A solution: one choice per (group, range), with what it costs and what the sensitivity predicts it loses.
 *
 * @param method  "viditq" (MSE split + greedy) or "knapsack" (exact)
 * @param choice  [group][range] index into the problem's choices
 */
public record SearchAllocation(String method, int[][] choice, double predictedLoss, long cost, double averageWeightBits,
                               long storedBytes, int layersWithTwoOrMoreWidths, Map<String, Double> lossByMetric) {

    /** Evaluates a choice table against the problem. */
    public static SearchAllocation of(String method, SearchProblem p, int[][] choice) {
        double loss = 0;
        long cost = 0, bitCost = 0, bytes = 0;
        int multi = 0;
        Map<String, Double> byMetric = new LinkedHashMap<>();
        for (int g = 0; g < p.groups(); g++) {
            loss += p.groupLoss(g, choice[g]);
            cost += p.groupCost(g, choice[g]);
            bitCost += p.groupBitCost(g, choice[g]);
            if (p.storage() != null) bytes += p.groupBytes(g, choice[g]);
            if (p.distinctWeightBits(choice[g]).size() > 1) multi += p.input().groups().get(g).layers().size();
            for (int r = 0; r < p.ranges(); r++) byMetric.merge(p.metric(g, r), p.loss(g, r, choice[g][r]), Double::sum);
        }
        return new SearchAllocation(method, deepCopy(choice), loss, cost, bitCost / (double) p.totalParamSteps(),
                p.storage() == null ? -1 : bytes, multi, byMetric);
    }

    static int[][] deepCopy(int[][] a) {
        int[][] out = new int[a.length][];
        for (int i = 0; i < a.length; i++) out[i] = a[i].clone();
        return out;
    }
}
