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
        Tensor h = norm.forward(x);
        mod.modulate(h, 0, 1);
        return linear.forward(h);
    }
}
