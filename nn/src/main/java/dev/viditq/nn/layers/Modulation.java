package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

/**
 * adaLN parameters of one block for every sample: {@code n} vectors of width H per sample
 * (shift, scale, gate, ... in checkpoint order), F32 [batch, n, H].
 *
 * <p>Each sample's vectors apply to all of that sample's tokens, which are contiguous rows of the activation
 * (rows / batch per sample) in every layout used here: image tokens, (frame, patch) and (patch, frame) orders.
 */
public final class Modulation {
    private final float[] values;
    private final int batch;
    private final int n;
    private final int dim;

    private Modulation(float[] values, int batch, int n, int dim) {
        this.values = values;
        this.batch = batch;
        this.n = n;
        this.dim = dim;
    }

    /** DiT's adaLN-Zero: the output [batch, n·H] of {@code adaLN_modulation(c)}, chunked into n vectors. */
    public static Modulation chunks(Tensor projected, int n) {
        int batch = projected.size(0);
        int width = Math.toIntExact(projected.numel() / batch);
        if (width % n != 0) throw new IllegalArgumentException("cannot chunk " + projected + " into " + n);
        return new Modulation(projected.toFloatArray(), batch, n, width / n);
    }

    /**
     * PixArt's adaLN-single: {@code table[None] + t.reshape(B, n, H)}, with {@code table} [n, H] and
     * {@code t} [B, n·H] (the shared {@code t_block} output), or {@code t} [B, H] added to each of the n rows
     * (the final layer, which adds the raw timestep embedding).
     */
    public static Modulation tablePlus(Tensor table, Tensor t) {
        int n = table.size(0), dim = table.size(1);
        int batch = t.size(0);
        long perSample = t.numel() / batch;
        boolean broadcast = perSample == dim;
        if (!broadcast && perSample != (long) n * dim) {
            throw new IllegalArgumentException("modulation table " + Rows.shape(table) + " does not fit " + t);
        }
        float[] tab = table.toFloatArray();
        float[] tv = t.toFloatArray();
        float[] out = new float[batch * n * dim];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < n; k++) {
                for (int c = 0; c < dim; c++) {
                    int src = broadcast ? b * dim + c : (b * n + k) * dim + c;
                    out[(b * n + k) * dim + c] = tab[k * dim + c] + tv[src];
                }
            }
        }
        return new Modulation(out, batch, n, dim);
    }

    public int batch() { return batch; }
    public int count() { return n; }
    public int dim() { return dim; }

    /** In place: x = x·(1 + scale) + shift, with vectors {@code shiftIdx} and {@code scaleIdx} of each sample. */
    public void modulate(Tensor x, int shiftIdx, int scaleIdx) {
        modulate(x, shiftIdx, scaleIdx, null);
    }

    /**
     * In place: x = (x·(1 + scale) + shift) ⊙ m, with m folded into the per-sample vectors first
     * (x·((1 + scale) ⊙ m) + shift ⊙ m), so the pass over x costs what {@link #modulate(Tensor, int, int)} costs.
     * {@code m} null: plain modulation. See {@link InputScaling}.
     */
    public void modulate(Tensor x, int shiftIdx, int scaleIdx, float[] m) {
        int rowsPerSample = rowsPerSample(x);
        float[][] mul = new float[batch][dim], add = new float[batch][dim];
        for (int b = 0; b < batch; b++) sampleAffine(b, shiftIdx, scaleIdx, m, mul[b], add[b]);
        // vectorised and threaded (a scalar one-thread loop here was ~5% of a PixArt-XL W8A8 step in a JFR profile)
        KernelBackend.get().affineRowsPerSample(x.data(), rowsPerSample, dim, mul, add);
    }

    /**
     * A new tensor: {@code norm(x)} modulated as {@link #modulate(Tensor, int, int, float[])} does. A norm without
     * parameters of its own (adaLN's) and the modulation run as one pass over x, the batch's samples together
     * ({@code layerNormAffineRowsPerSample}: the same values bit for bit, without writing and reading the normalised copy);
     * an affine norm runs first, then the modulation.
     */
    public Tensor normalizeAndModulate(LayerNorm norm, Tensor x, int shiftIdx, int scaleIdx, float[] m) {
        if (norm.affine()) {
            Tensor h = norm.forward(x);
            modulate(h, shiftIdx, scaleIdx, m);
            return h;
        }
        if (x.dtype() != DType.F32) throw new IllegalArgumentException("activation must be F32, is " + x);
        int rowsPerSample = rowsPerSample(x);
        Tensor h = Tensor.allocate(DType.F32, false, x.shape());   // every row is written
        float[][] mul = new float[batch][dim], add = new float[batch][dim];
        for (int b = 0; b < batch; b++) sampleAffine(b, shiftIdx, scaleIdx, m, mul[b], add[b]);
        KernelBackend.get().layerNormAffineRowsPerSample(x.data(), rowsPerSample, dim, norm.eps(), mul, add, h.data());
        return h;
    }

    /** mul = (1 + scale) ⊙ m and add = shift ⊙ m of sample b (m null: 1). */
    private void sampleAffine(int b, int shiftIdx, int scaleIdx, float[] m, float[] mul, float[] add) {
        if (m != null && m.length != dim) throw new IllegalArgumentException("input scale of " + m.length + " for a modulation of width " + dim);
        int sh = (b * n + shiftIdx) * dim, sc = (b * n + scaleIdx) * dim;
        for (int c = 0; c < dim; c++) {
            mul[c] = m == null ? 1 + values[sc + c] : (1 + values[sc + c]) * m[c];
            add[c] = m == null ? values[sh + c] : values[sh + c] * m[c];
        }
    }

    /** In place: residual += gate ⊙ y, with vector {@code gateIdx} of each sample. */
    public void gatedAdd(Tensor residual, Tensor y, int gateIdx) {
        int rowsPerSample = rowsPerSample(residual);
        if (y.numel() != residual.numel()) throw new IllegalArgumentException("cannot add " + y + " to " + residual);
        float[][] gate = new float[batch][];
        for (int b = 0; b < batch; b++) {
            int g = (b * n + gateIdx) * dim;
            gate[b] = java.util.Arrays.copyOfRange(values, g, g + dim);
        }
        KernelBackend.get().gatedAddRowsPerSample(residual.data(), y.data(), rowsPerSample, dim, gate);
    }

    private int rowsPerSample(Tensor x) {
        if (x.dim(-1) != dim) throw new IllegalArgumentException("modulation of width " + dim + " applied to " + x);
        int rows = Rows.rows(x);
        if (rows % batch != 0) throw new IllegalArgumentException(rows + " rows do not split into " + batch + " samples");
        return rows / batch;
    }
}
