package dev.viditq.quant.lowbit;

import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The low-rank branch against a scalar subspace iteration, and its BF16 storage. */
class LowRankBranchTest {
    @Test
    void matchesTheLeadingSubspaceOfAScalarIteration() {
        int n = 45, k = 70, rank = 6;
        float[] w = decaying(new SplittableRandom(7), n, k);
        LowRankBranch b = LowRankBranch.fit(w, n, k, rank);
        double[] ours = b.product(), ref = subspaceProjection(w, n, k, rank);
        double diff = 0, norm = 0;
        for (int i = 0; i < ours.length; i++) {
            diff += (ours[i] - ref[i]) * (ours[i] - ref[i]);
            norm += ref[i] * ref[i];
        }
        // BF16 keeps 8 significant bits (relative rounding ≤ 2^-9 per factor value)
        assertTrue(Math.sqrt(diff / norm) < 6e-3, "relative difference " + Math.sqrt(diff / norm));
    }

    @Test
    void factorsAreBf16AndTheResidualIsTheRest() {
        int n = 33, k = 40, rank = 5;
        float[] w = decaying(new SplittableRandom(8), n, k);
        LowRankBranch b = LowRankBranch.fit(w, n, k, rank);
        for (float v : b.l1()) assertEquals(v, Tensor.bf16ToFloat(Tensor.floatToBf16(v)));
        for (float v : b.l2()) assertEquals(v, Tensor.bf16ToFloat(Tensor.floatToBf16(v)));
        float[] r = b.residual(w);
        double[] p = b.product();
        for (int i = 0; i < w.length; i++) assertEquals((float) (w[i] - p[i]), r[i]);
        assertEquals(2L * rank * (n + k), b.storedBytes());
        // the branch takes the large singular directions: the residual is far smaller than the weight
        assertTrue(frobenius(r) < 0.2 * frobenius(w), frobenius(r) + " vs " + frobenius(w));
        assertThrows(IllegalArgumentException.class, () -> LowRankBranch.fit(w, n, k, n + 1));
    }

    /** W = Σ_i s_i u_i v_iᵀ with s_i = 2^(−i/2) over random directions: a spectrum that decays, as real weights. */
    static float[] decaying(SplittableRandom r, int n, int k) {
        float[] w = new float[n * k];
        for (int t = 0; t < Math.min(n, k); t++) {
            double s = Math.pow(2, -t / 2.0);
            double[] u = new double[n], v = new double[k];
            for (int i = 0; i < n; i++) u[i] = OutlierLayer.gaussian(r) / Math.sqrt(n);
            for (int j = 0; j < k; j++) v[j] = OutlierLayer.gaussian(r) / Math.sqrt(k);
            for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) w[i * k + j] += (float) (s * u[i] * v[j]);
        }
        return w;
    }

    /** W·V·Vᵀ for V the rank leading right singular vectors, by orthogonal iteration on WᵀW (scalar, double). */
    static double[] subspaceProjection(float[] w, int n, int k, int rank) {
        double[][] v = new double[rank][k];
        SplittableRandom r = new SplittableRandom(1);
        for (double[] row : v) for (int j = 0; j < k; j++) row[j] = OutlierLayer.gaussian(r);
        for (int it = 0; it < 500; it++) {
            double[][] next = new double[rank][k];
            for (int c = 0; c < rank; c++) {
                double[] wv = new double[n];
                for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) wv[i] += w[i * k + j] * v[c][j];
                for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) next[c][j] += w[i * k + j] * wv[i];
            }
            for (int c = 0; c < rank; c++) {   // Gram-Schmidt
                for (int p = 0; p < c; p++) {
                    double d = 0;
                    for (int j = 0; j < k; j++) d += next[c][j] * next[p][j];
                    for (int j = 0; j < k; j++) next[c][j] -= d * next[p][j];
                }
                double norm = 0;
                for (int j = 0; j < k; j++) norm += next[c][j] * next[c][j];
                for (int j = 0; j < k; j++) next[c][j] /= Math.sqrt(norm);
            }
            v = next;
        }
        double[] out = new double[n * k];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < rank; c++) {
                double d = 0;
                for (int j = 0; j < k; j++) d += w[i * k + j] * v[c][j];
                for (int j = 0; j < k; j++) out[i * k + j] += d * v[c][j];
            }
        }
        return out;
    }

    static double frobenius(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s);
    }
}
