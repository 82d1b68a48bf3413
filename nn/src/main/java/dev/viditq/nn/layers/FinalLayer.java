package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The output head: LN (no affine, eps 1e-6), x·(1 + scale) + shift, then a linear to p²·Cout features per token.
 * (shift, scale) come either from DiT's own adaLN linear on SiLU(c) ({@code final_layer.adaLN_modulation.1})
 * or, in PixArt-style models, from a [2, H] table plus the raw timestep embedding (no SiLU, no linear).
 */
public final class FinalLayer {
    private final Linear adaLn;   // DiT style, or null
    private final Tensor table;   // PixArt style, or null
    private final LayerNorm norm = LayerNorm.plain(1e-6f);
    private final Linear linear;

    private FinalLayer(Linear adaLn, Tensor table, Linear linear) {
        this.adaLn = adaLn;
        this.table = table;
        this.linear = linear;
    }

    /** DiT: {@code prefix.adaLN_modulation.1} [2H, H] and {@code prefix.linear} [outFeatures, H]. */
    public static FinalLayer loadAdaLnZero(Weights w, String prefix, int dim, int outFeatures) {
        return new FinalLayer(Linear.load(w, prefix + ".adaLN_modulation.1", dim, 2 * dim), null,
                Linear.load(w, prefix + ".linear", dim, outFeatures));
    }

    /** PixArt-style: table {@code tableKey} [2, H] and linear {@code linearKey} [outFeatures, H]. */
    public static FinalLayer loadTable(Weights w, String tableKey, String linearKey, int dim, int outFeatures) {
        return new FinalLayer(null, w.takeF32(tableKey, 2, dim), Linear.load(w, linearKey, dim, outFeatures));
    }

    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        if (adaLn != null) all.add(adaLn);
        all.add(linear);
        return all;
    }

    /**
     * @param x    tokens [rows, H], each sample's rows contiguous
     * @param cond DiT: c = t_emb + y_emb [B, H]; table style: the timestep embedding te [B, H]
     */
    public Tensor forward(Tensor x, Tensor cond) {
        Modulation mod = adaLn != null ? Modulation.chunks(adaLn.forward(Rows.silu(cond)), 2) : Modulation.tablePlus(table, cond);
        return linear.forward(mod.normalizeAndModulate(norm, x, 0, 1, null));
    }

    /**
     * Open-Sora 1.2's table-style head with a frame mask ({@code T2IFinalLayer} given {@code x_mask}): the token rows
     * form {@code live.length} equal groups (sample, frame); groups whose flag is false take
     * {@code modulate(LN(modulate(LN(x), te)), te0)}. The official code normalises the already modulated x a second
     * time for those frames, so this does too (parity; only frames used as conditioning take this path).
     *
     * @param te  timestep embedding [B, H]
     * @param te0 embedding of timestep 0 [B, H]
     */
    public Tensor forwardFrameMasked(Tensor x, Tensor te, Tensor te0, boolean[] live) {
        if (table == null) throw new IllegalStateException("the frame mask needs a table-style final layer");
        Tensor h = norm.forward(x);
        Modulation.tablePlus(table, te).modulate(h, 0, 1);
        Tensor zero = norm.forward(h);
        Modulation.tablePlus(table, te0).modulate(zero, 0, 1);
        long rows = Rows.rows(x), rowBytes = (long) x.dim(-1) * Float.BYTES;
        if (rows % live.length != 0) throw new IllegalArgumentException(rows + " rows do not split into " + live.length + " frames");
        long groupBytes = rows / live.length * rowBytes;
        for (int g = 0; g < live.length; g++) {
            if (!live[g]) h.data().asSlice(g * groupBytes, groupBytes).copyFrom(zero.data().asSlice(g * groupBytes, groupBytes));
        }
        return linear.forward(h);
    }
}
