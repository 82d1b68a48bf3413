package dev.viditq.quant.runtime;

import dev.viditq.core.tensor.Tensor;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.decomposition.svd.SvdImplicitQrDecompose_DDRM;

/**
 * SVDQuant's low-rank branch (Li et al. 2024) of a balanced weight W/m [n, k]: L₁ = U_r·Σ_r [n, r] and L₂ = V_rᵀ
 * [r, k] from the r leading singular triplets, both rounded to BF16 (what is stored), so that W/m = L₁L₂ + R with
 * R = {@link #residual} the part left to the integer weight (rotated, R·Q, before it is quantized). The factors live
 * in the balanced basis, before the rotation: the rotation is orthogonal, so the SVD of W/m and of (W/m)·Q share
 * U and Σ and differ only by V·Q, and a branch kept before the rotation runs on the layer's input as it arrives —
 * y = Q(R·Q)·x' + L₁(L₂·(x ⊙ m)), with (x ⊙ m) the input the model already balances where balancing is folded,
 * else m multiplied into L₂'s columns once when the layer is installed ({@link LowRankPath}). Splitting Σ into L₁
 * (as deepcompressor's {@code LowRankBranch}) keeps L₂'s rows orthonormal, well inside BF16's range.
 *
 * @param l1 [n, rank] row-major, every value a BF16 number
 * @param l2 [rank, k] row-major, every value a BF16 number
 */
public record LowRankBranch(int n, int k, int rank, float[] l1, float[] l2) {
    public LowRankBranch {
        if (rank < 1 || rank > Math.min(n, k)) throw new IllegalArgumentException("rank " + rank + " for a [" + n + ", " + k + "] weight");
        if (l1.length != n * rank || l2.length != rank * k) {
            throw new IllegalArgumentException("low-rank factors of " + l1.length + " and " + l2.length + " values for [" + n + ", "
                    + rank + "] and [" + rank + ", " + k + "]");
        }
    }

    /** The rank-{@code rank} branch of row-major w [n, k], from a singular value decomposition (EJML). */
    public static LowRankBranch fit(float[] w, int n, int k, int rank) {
        if (rank < 1 || rank > Math.min(n, k)) throw new IllegalArgumentException("rank " + rank + " for a [" + n + ", " + k + "] weight");
        DMatrixRMaj a = new DMatrixRMaj(n, k);
        for (int i = 0; i < n * k; i++) a.data[i] = w[i];
        SvdImplicitQrDecompose_DDRM svd = new SvdImplicitQrDecompose_DDRM(true, true, true, false);
        if (!svd.decompose(a)) throw new IllegalArgumentException("the singular value decomposition of a [" + n + ", " + k + "] weight failed");
        DMatrixRMaj u = svd.getU(null, false), s = svd.getW(null), vt = svd.getV(null, true);
        SingularOps_DDRM.descendingOrder(u, false, s, vt, true);
        float[] l1 = new float[n * rank], l2 = new float[rank * k];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < rank; c++) l1[i * rank + c] = bf16(u.get(i, c) * s.get(c, c));
        }
        for (int c = 0; c < rank; c++) {
            for (int j = 0; j < k; j++) l2[c * k + j] = bf16(vt.get(c, j));
        }
        return new LowRankBranch(n, k, rank, l1, l2);
    }

    private static float bf16(double v) {
        return Tensor.bf16ToFloat(Tensor.floatToBf16((float) v));
    }

    /** L₁L₂ [n, k] in double (sums of exact products of BF16 numbers). */
    public double[] product() {
        double[] p = new double[n * k];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < rank; c++) {
                double a = l1[i * rank + c];
                int row = i * k, lr = c * k;
                for (int j = 0; j < k; j++) p[row + j] += a * l2[lr + j];
            }
        }
        return p;
    }

    /** R = w − L₁L₂, rounded once to float: what is quantized. */
    public float[] residual(float[] w) {
        if (w.length != n * k) throw new IllegalArgumentException(w.length + " weights for [" + n + ", " + k + "]");
        double[] p = product();
        float[] r = new float[n * k];
        for (int i = 0; i < r.length; i++) r[i] = (float) (w[i] - p[i]);
        return r;
    }

    /** "rank r [n, k]", for messages. */
    public String describe() {
        return "rank " + rank + " [" + n + ", " + k + "]";
    }

    /** Stored bytes: both factors in BF16. */
    public long storedBytes() {
        return storedBytes(rank, n, k);
    }

    /** Bytes of a rank-{@code rank} branch of a [n, k] weight as a checkpoint stores it: L₁ [n, rank] and L₂ [rank, k] in BF16. */
    public static long storedBytes(int rank, int n, int k) {
        return dev.viditq.core.tensor.DType.BF16.byteSize((long) rank * (n + k));
    }
}
