package dev.viditq.quant.calib;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.function.IntPredicate;

/**
 * H = Σ xᵀx over every input row x of one Linear that calibration sees (all steps, both CFG halves; caption padding
 * excluded, as for {@link LayerStats}): what GPTQ quantizes against. Recorded in the layer's own input basis; a method
 * that balances and rotates the input by T (x' = x·T) takes H' = Tᵀ·H·T, the Hessian of the basis the integer kernel
 * sees (exact algebra, so nothing about the method has to be known at calibration time).
 *
 * <p>Stored as the upper triangle, row by row ({@link #packedSize}: k(k+1)/2 values; F32 in the file). Deterministic:
 * each call's XᵀX comes from the float GEMM, whose sums run in a fixed order on any number of threads, and is added
 * to a double sum over the prompt ({@link CalibrationPart}); the prompt's sum is then added to the running total and
 * the total rounded to float ({@link #appendRounded}), so the state after a prompt is exactly what the file holds, a
 * resumed run continues bit for bit where an uninterrupted one would be, and prompts recorded anywhere (other threads,
 * other machines) and folded in prompt order give the same bits.
 */
public final class LayerHessian implements java.io.Serializable {
    @java.io.Serial
    private static final long serialVersionUID = 1L;

    private final String name;
    private final int k;
    private final double[] upper;

    public LayerHessian(String name, int k) {
        if (k < 1) throw new IllegalArgumentException(name + ": need k >= 1");
        this.name = name;
        this.k = k;
        this.upper = new double[packedSize(k)];
    }

    /** Rebuilds from the stored upper triangle (a calibration file). */
    static LayerHessian of(String name, int k, float[] packedUpper) {
        LayerHessian h = new LayerHessian(name, k);
        if (packedUpper.length != h.upper.length) {
            throw new IllegalArgumentException(name + ": " + packedUpper.length + " Hessian values for " + k + " inputs, expected " + h.upper.length);
        }
        for (int i = 0; i < packedUpper.length; i++) h.upper[i] = packedUpper[i];
        return h;
    }

    /** Values of the upper triangle of a k × k matrix. */
    public static int packedSize(int k) {
        return Math.toIntExact((long) k * (k + 1) / 2);
    }

    public String name() { return name; }
    public int k() { return k; }

    /** Adds xᵀx of the rows of x [rowCount, k] (F32) that {@code realRows} accepts (null: all). */
    public synchronized void add(MemorySegment x, int rowCount, IntPredicate realRows) {
        int m = 0;
        for (int r = 0; r < rowCount; r++) if (realRows == null || realRows.test(r)) m++;
        if (m == 0) return;
        float[] xt = new float[k * m];        // the real rows, transposed: [k, m]
        float[] row = new float[k];
        int c = 0;
        for (int r = 0; r < rowCount; r++) {
            if (realRows != null && !realRows.test(r)) continue;
            MemorySegment.copy(x, Tensor.F32_LE, (long) r * k * Float.BYTES, row, 0, k);
            for (int i = 0; i < k; i++) xt[i * m + c] = row[i];
            c++;
        }
        Tensor t = Tensor.of(xt, k, m);
        Tensor g = Tensor.zeros(k, k);
        KernelBackend.get().gemm(t.data(), k, m, t, null, g.data());   // [k, m]·[k, m]ᵀ = XᵀX
        float[] gram = g.toFloatArray();
        int p = 0;
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) upper[p++] += gram[i * k + j];
        }
    }

    /** Adds the sum of one later prompt ({@code prompt}, unrounded) and rounds the total to what the file stores. */
    synchronized void appendRounded(LayerHessian prompt) {
        if (prompt.k != k) throw new IllegalArgumentException(name + ": cannot append a Hessian of " + prompt.k + " inputs to " + k);
        for (int i = 0; i < upper.length; i++) upper[i] = (float) (upper[i] + prompt.upper[i]);
    }

    /** The upper triangle as stored (F32). */
    synchronized float[] packedUpper() {
        float[] out = new float[upper.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) upper[i];
        return out;
    }

    /** The full symmetric k × k matrix, row-major. */
    public synchronized double[] dense() {
        double[] h = new double[k * k];
        int p = 0;
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) {
                h[i * k + j] = upper[p];
                h[j * k + i] = upper[p++];
            }
        }
        return h;
    }
}
