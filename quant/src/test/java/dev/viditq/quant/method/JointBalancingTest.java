package dev.viditq.quant.method;

import dev.viditq.core.kernels.quant.Hadamard;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.runtime.WeightQuantizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The joint balancing vector of Linears that read one input (q, k and v) against each its own vector, on layers with
 * planted outliers: input channels {@value #CHANNEL_GAIN}× larger (shared by all, as after adaLN) and, in the harder
 * case, in each member its own few weight columns {@value #COLUMN_GAIN}× larger — where one vector must serve columns
 * that only one member has large. Quantized as ViDiT-Q does (x' = (x ⊙ m)·H per-token int8, W' = (W / m)·H
 * per-channel min/max), in plain Java (the scalar oracle of what the kernels compute). The joint vector is what a
 * fused qkv (the original layouts) gets.
 */
class JointBalancingTest {
    static final double CHANNEL_GAIN = 20, COLUMN_GAIN = 8;
    /**
     * Worst joint/separate ratio of the relative output error over 7 seeds. Measured: with input outliers only,
     * median 1.01 / worst 1.04 (W8A8) and 0.99 / 1.03 (W4A8); with each member's own large columns, 1.43 / 1.82
     * (W8A8) and 1.24 / 1.40 (W4A8) — still well below the unbalanced error (0.0058 against 0.0112 at W8A8).
     */
    static final double MARGIN_INPUT_OUTLIERS = 1.05, MARGIN_MEMBER_COLUMNS = 2.0;

    @Test
    void jointVectorIsTheFusedProjectionsVector() {
        ViDiTQ method = new ViDiTQ();
        SplittableRandom r = new SplittableRandom(1);
        int k = 13, n = 5;
        float[] act = randomAbs(r, k);
        List<float[]> weights = List.of(randomMatrix(r, n, k), randomMatrix(r, n, k), randomMatrix(r, n, k));
        float[] stacked = new float[3 * n * k];
        for (int i = 0; i < 3; i++) System.arraycopy(weights.get(i), 0, stacked, i * n * k, n * k);
        float[] fused = method.balancingVector(k, act, columnAbsMax(stacked, 3 * n, k), 0.75);
        List<float[]> wmax = new ArrayList<>();
        for (float[] w : weights) wmax.add(columnAbsMax(w, n, k));
        assertArrayEquals(fused, method.jointBalancingVector(List.of(act, act, act), wmax, 0.75));
    }

    @Test
    void jointBalancingStaysNearSeparateOnPlantedOutliers() {
        for (boolean memberColumns : new boolean[]{false, true}) {
            for (int bits : new int[]{8, 4}) {
                double[] r = errors(bits, memberColumns);   // median ratio, worst ratio, mean separate, mean joint, mean unbalanced
                System.out.printf("W%dA8, input outliers%s: relative output error separate %.4f, joint %.4f, unbalanced %.4f; "
                                + "joint/separate median %.3f, worst %.3f%n", bits, memberColumns ? " + each member's own large columns" : "",
                        r[2], r[3], r[4], r[0], r[1]);
                double margin = memberColumns ? MARGIN_MEMBER_COLUMNS : MARGIN_INPUT_OUTLIERS;
                assertTrue(r[1] <= margin, "W" + bits + "A8" + (memberColumns ? " with member columns" : "") + ": joint/separate up to " + r[1]);
                assertTrue(r[3] < r[4], "W" + bits + "A8: the joint vector still balances (" + r[3] + " against unbalanced " + r[4] + ")");
            }
        }
    }

    /** Over 7 seeds: {median joint/separate, worst joint/separate, mean error separate, joint, unbalanced}. */
    private static double[] errors(int bits, boolean memberColumns) {
        ViDiTQ method = new ViDiTQ();
        int k = 96, n = 45, m = 77;
        assertTrue(Hadamard.isSupported(k));
        double alpha = bits == 8 ? 0.75 : 0.5665; // the viditq-w8a8 and viditq-w4a8 presets
        double[] ratios = new double[7];
        double sepSum = 0, jointSum = 0, noneSum = 0;
        float[] ones = new float[k];
        Arrays.fill(ones, 1f);
        for (int seed = 0; seed < ratios.length; seed++) {
            SplittableRandom r = new SplittableRandom(100 + seed);
            float[] x = plantedInput(r, m, k);
            List<float[]> ws = new ArrayList<>();
            for (int i = 0; i < 3; i++) ws.add(memberColumns ? plantedWeight(r, n, k) : randomMatrix(r, n, k));
            float[] act = columnAbsMax(x, m, k);
            List<float[]> wmax = new ArrayList<>();
            for (float[] w : ws) wmax.add(columnAbsMax(w, n, k));
            float[] joint = method.jointBalancingVector(List.of(act, act, act), wmax, alpha);
            HadamardRotation h = HadamardRotation.randomized(k, k, seed);
            double separate = 0, shared = 0, none = 0;
            for (int i = 0; i < 3; i++) {
                separate += outputError(x, ws.get(i), method.balancingVector(k, act, wmax.get(i), alpha), h, m, n, k, bits);
                shared += outputError(x, ws.get(i), joint, h, m, n, k, bits);
                none += outputError(x, ws.get(i), ones, h, m, n, k, bits);
            }
            ratios[seed] = shared / separate;
            sepSum += separate / 3;
            jointSum += shared / 3;
            noneSum += none / 3;
        }
        Arrays.sort(ratios);
        int s = ratios.length;
        return new double[]{ratios[s / 2], ratios[s - 1], sepSum / s, jointSum / s, noneSum / s};
    }

    /** ‖Ŷ − Y‖ / ‖Y‖ of one Linear quantized with balancing {@code mvec} and rotation {@code h}. */
    private static double outputError(float[] x, float[] w, float[] mvec, HadamardRotation h, int m, int n, int k, int bits) {
        float[] xq = new float[m * k];
        for (int t = 0; t < m; t++) {
            float[] row = new float[k];
            for (int j = 0; j < k; j++) row[j] = x[t * k + j] * mvec[j];
            h.rotate(row, 0);
            float absmax = 0;
            for (float v : row) absmax = Math.max(absmax, Math.abs(v));
            float scale = absmax / 127f;
            for (int j = 0; j < k; j++) xq[t * k + j] = scale == 0 ? 0 : (float) Math.max(-127, Math.min(127, Math.rint(row[j] / scale))) * scale;
        }
        float[] wt = new float[n * k];
        for (int i = 0; i < n; i++) {
            float[] row = new float[k];
            for (int j = 0; j < k; j++) row[j] = w[i * k + j] / mvec[j];
            h.rotate(row, 0);
            System.arraycopy(row, 0, wt, i * k, k);
        }
        float[] wq = WeightQuantizer.quantize(wt, n, k, bits, new QuantConfig.WeightSpec(bits, false, QuantConfig.WeightGranularity.CHANNEL, 0)).dequantize();
        double err = 0, ref = 0;
        for (int t = 0; t < m; t++) {
            for (int i = 0; i < n; i++) {
                double y = 0, yq = 0;
                for (int j = 0; j < k; j++) {
                    y += (double) x[t * k + j] * w[i * k + j];
                    yq += (double) xq[t * k + j] * wq[i * k + j];
                }
                err += (yq - y) * (yq - y);
                ref += y * y;
            }
        }
        return Math.sqrt(err / ref);
    }

    /** Tokens N(0, 1) with a few channels (the same for every member) {@value #CHANNEL_GAIN}× larger. */
    private static float[] plantedInput(SplittableRandom r, int m, int k) {
        double[] gain = new double[k];
        Arrays.fill(gain, 1);
        for (int i = 0; i < 4; i++) gain[r.nextInt(k)] = CHANNEL_GAIN;
        float[] x = new float[m * k];
        for (int t = 0; t < m; t++) for (int j = 0; j < k; j++) x[t * k + j] = (float) (gaussian(r) * gain[j]);
        return x;
    }

    /** W ~ N(0, 1/k) with a few columns of this member's own {@value #COLUMN_GAIN}× larger. */
    private static float[] plantedWeight(SplittableRandom r, int n, int k) {
        float[] w = randomMatrix(r, n, k);
        for (int c = 0; c < 4; c++) {
            int j = r.nextInt(k);
            for (int i = 0; i < n; i++) w[i * k + j] *= (float) COLUMN_GAIN;
        }
        return w;
    }

    private static float[] randomMatrix(SplittableRandom r, int n, int k) {
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) (gaussian(r) / Math.sqrt(k));
        return w;
    }

    private static float[] randomAbs(SplittableRandom r, int k) {
        float[] a = new float[k];
        for (int j = 0; j < k; j++) a[j] = (float) Math.abs(gaussian(r)) + 0.01f;
        return a;
    }

    private static float[] columnAbsMax(float[] a, int rows, int k) {
        float[] out = new float[k];
        for (int i = 0; i < rows; i++) for (int j = 0; j < k; j++) out[j] = Math.max(out[j], Math.abs(a[i * k + j]));
        return out;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
