package dev.viditq.quant.lowbit;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.runtime.QuantizedWeight;
import dev.viditq.quant.runtime.WeightGrid;
import dev.viditq.quant.runtime.WeightQuantizer;

/**
 * GPTQ written the plain way, as an oracle for {@link Gptq}: no blocks (every column's error goes to every later
 * column at once, the OBQ order of the paper's Algorithm 1 before its lazy batching), its own scalar Cholesky and
 * inverse, one row and one column at a time. The same grid rules: per-channel grids from the weight before any
 * update; per-group grids from the group's current values at its first column, or, with act_order, before any update.
 */
final class GptqReference {
    private GptqReference() {}

    static QuantizedWeight quantize(float[] w0, int n, int k, int bits, QuantConfig.WeightSpec spec, QuantConfig.Gptq settings,
                                    double[] h0) {
        double[] h = h0.clone();
        double[][] w = new double[n][k];
        for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) w[r][c] = w0[r * k + c];
        for (int j = 0; j < k; j++) {
            if (h[j * k + j] == 0) {
                h[j * k + j] = 1;
                for (int r = 0; r < n; r++) w[r][j] = 0;
            }
        }
        int gs = WeightQuantizer.groupSize(spec, k), groups = Math.ceilDiv(k, gs);
        boolean staticGrids = gs == k || settings.actOrder();
        WeightGrid[][] grid = new WeightGrid[n][groups];
        if (staticGrids) for (int r = 0; r < n; r++) for (int g = 0; g < groups; g++) grid[r][g] = gridOf(w[r], g * gs, Math.min(k, (g + 1) * gs), bits, spec);
        Integer[] order = new Integer[k];
        for (int j = 0; j < k; j++) order[j] = j;
        if (settings.actOrder()) java.util.Arrays.sort(order, (a, b) -> h[a * k + a] != h[b * k + b] ? Double.compare(h[b * k + b], h[a * k + a]) : a - b);
        double[][] hp = new double[k][k];
        double mean = 0;
        for (int j = 0; j < k; j++) mean += h[j * k + j] / k;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) hp[i][j] = h[order[i] * k + order[j]] + (i == j ? settings.damp() * mean : 0);
        double[][] u = transpose(cholesky(inverse(hp)));
        byte[] q = new byte[n * k];
        for (int i = 0; i < k; i++) {
            int c = order[i];
            for (int r = 0; r < n; r++) {
                if (!staticGrids && c % gs == 0) grid[r][c / gs] = gridOf(w[r], c, Math.min(k, c + gs), bits, spec);
                WeightGrid g = grid[r][c / gs];
                byte v = g.quantize((float) w[r][c]);
                q[r * k + c] = v;
                double e = (w[r][c] - g.dequantize(v)) / u[i][i];
                for (int j = i + 1; j < k; j++) w[r][order[j]] -= e * u[i][j];
            }
        }
        float[] scales = new float[n * groups];
        byte[] zeros = spec.symmetric() ? null : new byte[n * groups];
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = grid[r][g].scale();
                if (zeros != null) zeros[r * groups + g] = grid[r][g].storedZero();
            }
        }
        return QuantizedWeight.fromRowMajor(bits, n, k, gs, q, scales, zeros, spec.scaleType());
    }

    private static WeightGrid gridOf(double[] row, int from, int to, int bits, QuantConfig.WeightSpec spec) {
        float[] v = new float[to - from];
        for (int j = from; j < to; j++) v[j - from] = (float) row[j];
        return WeightGrid.of(v, 0, v.length, bits, spec.symmetric(), spec.scaleType());
    }

    /** Lower L with a = L·Lᵀ. */
    static double[][] cholesky(double[][] a) {
        int k = a.length;
        double[][] l = new double[k][k];
        for (int j = 0; j < k; j++) {
            double d = a[j][j];
            for (int p = 0; p < j; p++) d -= l[j][p] * l[j][p];
            if (!(d > 0)) throw new IllegalArgumentException("not positive definite at " + j);
            l[j][j] = Math.sqrt(d);
            for (int i = j + 1; i < k; i++) {
                double s = a[i][j];
                for (int p = 0; p < j; p++) s -= l[i][p] * l[j][p];
                l[i][j] = s / l[j][j];
            }
        }
        return l;
    }

    /** a⁻¹ of a symmetric positive definite a, as L⁻ᵀ·L⁻¹. */
    static double[][] inverse(double[][] a) {
        int k = a.length;
        double[][] l = cholesky(a), li = new double[k][k];
        for (int c = 0; c < k; c++) {
            for (int i = c; i < k; i++) {
                double s = i == c ? 1 : 0;
                for (int p = c; p < i; p++) s -= l[i][p] * li[p][c];
                li[i][c] = s / l[i][i];
            }
        }
        double[][] out = new double[k][k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
            double s = 0;
            for (int p = Math.max(i, j); p < k; p++) s += li[p][i] * li[p][j];
            out[i][j] = s;
        }
        return out;
    }

    static double[][] transpose(double[][] a) {
        int k = a.length;
        double[][] t = new double[k][k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) t[j][i] = a[i][j];
        return t;
    }
}
