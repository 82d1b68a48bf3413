package dev.viditq.quant.lowbit;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.runtime.QuantizedWeight;
import dev.viditq.quant.runtime.WeightGrid;
import dev.viditq.quant.runtime.WeightQuantizer;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.decomposition.chol.CholeskyDecompositionInner_DDRM;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al. 2022, the algorithm of IST-DASLab/gptq {@code fasterquant}): quantizes the weight W [n, k] of a
 * layer column by column, and after each column spreads its rounding error over the columns not yet quantized so that
 * ‖W·Xᵀ − Q(W)·Xᵀ‖² for the calibration inputs X (H = XᵀX) is kept small, instead of ‖W − Q(W)‖².
 *
 * <p>Steps, as in the reference: dead inputs (H_jj = 0) get H_jj = 1 and weight 0; with {@code act_order} the columns
 * are visited in order of decreasing H_jj; λ = damp · mean(diag H) is added to the diagonal; U = the upper Cholesky
 * factor of H⁻¹; then for column i of a block of columns: q_i = round(w_i), e_i = (w_i − q_i) / U_ii, and
 * w_j −= e_i · U_ij for the later columns j of the block; the columns after the block get the block's errors in one
 * batched update ("lazy batch": exact, the same sums in another order).
 *
 * <p>Rounding goes through {@link WeightGrid}, the grid of round-to-nearest, so the stored format (q, scale, zero point)
 * is unchanged; a grid's scale is rounded to its stored type (BF16 or F32) when the grid is made, so every column is
 * quantized, and its error compensated, against the scale that is stored. Grids: per output channel, computed once from the weight before any update (as the reference); per
 * group, from the group's current (already error-updated) values when its first column is reached, or — with
 * {@code act_order}, where a group's columns are visited out of order — from the weight before any update ("static
 * groups"), so a group stays a contiguous run of inputs. The reference takes a dynamic group's range from weights that
 * lack the updates of the earlier columns of the same block; here blocks are a multiple of the group size, so every
 * group lies in one block and its range comes from fully updated values (what the unblocked algorithm sees).
 *
 * <p>The arithmetic is double; rows are independent given U, so they are split over threads in tiles and the result
 * does not depend on the thread count.
 */
public final class Gptq {
    /** Rows that share each U row read from cache. */
    private static final int ROW_TILE = 16;

    /**
     * @param weight    the quantized weight, in the format of round-to-nearest
     * @param proxyLoss GPTQ's own estimate of the added output error, ½ Σ (w − q)² / U_ii² (the reference's Losses)
     */
    public record Result(QuantizedWeight weight, double proxyLoss) {}

    private Gptq() {}

    /**
     * Quantizes row-major w [n, k] (already balanced and rotated) against {@code hessian}, the dense symmetric k × k
     * H = XᵀX of the layer's inputs in the same basis (scale does not matter).
     */
    public static Result quantize(float[] w, int n, int k, int bits, QuantConfig.WeightSpec spec, QuantConfig.Gptq settings,
                                  double[] hessian) {
        if (spec.granularity() == QuantConfig.WeightGranularity.TENSOR) {
            throw new IllegalArgumentException("GPTQ needs per-channel or per-group weight scales, not one per tensor");
        }
        if (w.length != n * k) throw new IllegalArgumentException(w.length + " weights for [" + n + ", " + k + "]");
        if (hessian.length != k * k) throw new IllegalArgumentException("a Hessian of " + hessian.length + " values for " + k + " inputs");
        int groupSize = WeightQuantizer.groupSize(spec, k);
        boolean grouped = groupSize < k;
        double[] h = hessian.clone();
        double[] wd = new double[n * k];
        for (int i = 0; i < wd.length; i++) wd[i] = w[i];
        zeroDeadInputs(h, wd, n, k);
        // grids fixed before any update: per channel always, per group when columns are visited out of order
        WeightGrid[] fixed = !grouped || settings.actOrder() ? initialGrids(wd, n, k, bits, spec.symmetric(), spec.scaleType(), groupSize) : null;
        int[] perm = settings.actOrder() ? order(h, k) : IntStream.range(0, k).toArray();
        double[] wp = permuteColumns(wd, n, k, perm);
        double[] u = upperCholeskyOfInverse(permute(h, k, perm), k, settings.damp());
        int block = grouped && fixed == null ? Math.max(groupSize, settings.blockSize() / groupSize * groupSize) : settings.blockSize();
        Columns out = new Columns(n, k, bits, spec.symmetric(), spec.scaleType(), groupSize, perm, fixed);
        int tiles = Math.ceilDiv(n, ROW_TILE);
        double[] tileLoss = new double[tiles];
        Parallel.forEach(tiles, t -> tileLoss[t] = quantizeRows(wp, u, k, block, t * ROW_TILE, Math.min(n, (t + 1) * ROW_TILE), out));
        double loss = 0;
        for (double l : tileLoss) loss += l;
        return new Result(out.weight(), loss);
    }

    /** Inputs that never fire cannot be compensated and need no weight: H_jj = 1, W[:, j] = 0 (as the reference). */
    private static void zeroDeadInputs(double[] h, double[] w, int n, int k) {
        for (int j = 0; j < k; j++) {
            if (h[j * k + j] != 0) continue;
            h[j * k + j] = 1;
            for (int r = 0; r < n; r++) w[r * k + j] = 0;
        }
    }

    private static WeightGrid[] initialGrids(double[] w, int n, int k, int bits, boolean symmetric, QuantConfig.ScaleType scaleType,
                                             int groupSize) {
        int groups = Math.ceilDiv(k, groupSize);
        WeightGrid[] grids = new WeightGrid[n * groups];
        float[] row = new float[k];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) row[c] = (float) w[r * k + c];
            for (int g = 0; g < groups; g++) grids[r * groups + g] = WeightGrid.of(row, g * groupSize, Math.min(k, (g + 1) * groupSize), bits, symmetric, scaleType);
        }
        return grids;
    }

    /** Columns by decreasing H_jj, ties by index (the reference's argsort, made deterministic). */
    static int[] order(double[] h, int k) {
        return IntStream.range(0, k).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -h[j * k + j]).thenComparingInt(j -> j))
                .mapToInt(Integer::intValue).toArray();
    }

    private static double[] permuteColumns(double[] w, int n, int k, int[] perm) {
        double[] out = new double[n * k];
        for (int r = 0; r < n; r++) for (int i = 0; i < k; i++) out[r * k + i] = w[r * k + perm[i]];
        return out;
    }

    private static double[] permute(double[] h, int k, int[] perm) {
        double[] out = new double[k * k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) out[i * k + j] = h[perm[i] * k + perm[j]];
        return out;
    }

    /** U with H + λI = (UᵀU)⁻¹, U upper triangular: the reference's cholesky → cholesky_inverse → cholesky(upper). */
    static double[] upperCholeskyOfInverse(double[] h, int k, double damp) {
        double mean = 0;
        for (int j = 0; j < k; j++) mean += h[j * k + j] / k;
        double lambda = damp * mean;
        DMatrixRMaj hm = DMatrixRMaj.wrap(k, k, h.clone());
        for (int j = 0; j < k; j++) hm.add(j, j, lambda);
        DMatrixRMaj inverse = new DMatrixRMaj(k, k);
        if (!CommonOps_DDRM.invertSPD(hm, inverse)) throw notPositiveDefinite(lambda);
        CholeskyDecompositionInner_DDRM upper = new CholeskyDecompositionInner_DDRM(false);
        if (!upper.decompose(inverse)) throw notPositiveDefinite(lambda);
        DMatrixRMaj t = upper.getT(null);
        return t.data;
    }

    private static IllegalArgumentException notPositiveDefinite(double lambda) {
        return new IllegalArgumentException("the layer's Hessian is not positive definite even with λ = " + lambda
                + " on its diagonal; raise gptq.damp");
    }

    /** Rows [r0, r1) through every block; returns their share of the proxy loss. */
    private static double quantizeRows(double[] w, double[] u, int k, int block, int r0, int r1, Columns out) {
        int rows = r1 - r0;
        double[] err = new double[rows * block];
        double loss = 0;
        for (int i1 = 0; i1 < k; i1 += block) {
            int i2 = Math.min(k, i1 + block);
            for (int i = i1; i < i2; i++) {
                double d = u[i * k + i];
                for (int r = r0; r < r1; r++) {
                    int row = r * k;
                    double wi = w[row + i];
                    double q = out.quantize(r, i, w, row, i2);
                    double e = (wi - q) / d;
                    loss += (wi - q) * (wi - q) / (d * d) / 2;
                    err[(r - r0) * block + (i - i1)] = e;
                    for (int j = i + 1; j < i2; j++) w[row + j] -= e * u[i * k + j];
                }
            }
            for (int r = r0; r < r1; r++) {
                int row = r * k, eb = (r - r0) * block;
                for (int b = 0; b < i2 - i1; b++) {
                    double e = err[eb + b];
                    int ub = (i1 + b) * k;
                    for (int j = i2; j < k; j++) w[row + j] -= e * u[ub + j];
                }
            }
        }
        return loss;
    }

    /** Where the quantized columns go: integers, grids, and the column order. */
    private static final class Columns {
        private final int n, k, bits, groupSize, groups;
        private final boolean symmetric;
        private final QuantConfig.ScaleType scaleType;
        private final int[] perm;
        private final WeightGrid[] grids;   // [n][groups]
        private final boolean dynamic;
        private final byte[] q;

        Columns(int n, int k, int bits, boolean symmetric, QuantConfig.ScaleType scaleType, int groupSize, int[] perm, WeightGrid[] fixed) {
            this.n = n;
            this.k = k;
            this.bits = bits;
            this.symmetric = symmetric;
            this.scaleType = scaleType;
            this.groupSize = groupSize;
            this.groups = Math.ceilDiv(k, groupSize);
            this.perm = perm;
            this.dynamic = fixed == null;
            this.grids = dynamic ? new WeightGrid[n * groups] : fixed;
            this.q = new byte[n * k];
        }

        /**
         * Quantizes column i (in visiting order) of row r of the working weight w (row offset {@code row}); a dynamic
         * group's grid is taken from the group's current values when its first column is reached. Returns the value
         * the stored integer stands for.
         */
        double quantize(int r, int i, double[] w, int row, int blockEnd) {
            int c = perm[i];
            int slot = r * groups + c / groupSize;
            if (dynamic && c % groupSize == 0) {
                int end = Math.min(k, c + groupSize);
                if (end > blockEnd) throw new IllegalStateException("group [" + c + ", " + end + ") crosses a block end " + blockEnd);
                float[] values = new float[end - c];
                for (int j = c; j < end; j++) values[j - c] = (float) w[row + j];
                grids[slot] = WeightGrid.of(values, 0, values.length, bits, symmetric, scaleType);
            }
            WeightGrid g = grids[slot];
            byte v = g.quantize((float) w[row + i]);
            q[r * k + c] = v;
            return g.dequantize(v);
        }

        QuantizedWeight weight() {
            float[] scales = new float[n * groups];
            byte[] zeros = symmetric ? null : new byte[n * groups];
            for (int s = 0; s < scales.length; s++) {
                scales[s] = grids[s].scale();
                if (zeros != null) zeros[s] = grids[s].storedZero();
            }
            return QuantizedWeight.fromRowMajor(bits, n, k, groupSize, Arrays.copyOf(q, q.length), scales, zeros, scaleType);
        }
    }
}
