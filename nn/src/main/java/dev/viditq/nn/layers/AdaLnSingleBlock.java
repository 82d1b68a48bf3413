package dev.viditq.nn.layers;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The PixArt transformer block (adaLN-single), shared by PixArt (both layouts), Latte's spatial and temporal
 * blocks, Open-Sora 1.2's spatial and temporal blocks and, step by step, Open-Sora 1.0's STDiT block; DiT's block
 * is the same without table and cross-attention (its modulation comes from its own linear):
 * <pre>
 *   (sh1, sc1, g1, sh2, sc2, g2) = scale_shift_table + t6[b]          (t6 = the model's shared adaLN linear)
 *   x += g1 · SelfAttn(LN(x)·(1 + sc1) + sh1)
 *   x += CrossAttn(x, caption)                                          (no norm, no gate; absent in Latte's temporal blocks)
 *   x += g2 · MLP(LN(x)·(1 + sc2) + sh2)
 * </pre>
 */
public final class AdaLnSingleBlock {
    private static final int SHIFT_MSA = 0, SCALE_MSA = 1, GATE_MSA = 2, SHIFT_MLP = 3, SCALE_MLP = 4, GATE_MLP = 5;

    private final Tensor table;
    private final LayerNorm norm1;
    private final SelfAttention attn;
    private final CrossAttention cross;
    private final LayerNorm norm2;
    private final Mlp mlp;
    /** Folding seams for the two modulated inputs: of the attention (qkv / q, k, v) and of the MLP (fc1). */
    private final InputScaling attnInput;
    private final InputScaling mlpInput;

    /**
     * @param table [6, H], or null when the caller supplies the modulation (DiT computes it with its own linear)
     * @param cross null for blocks without cross-attention
     */
    public AdaLnSingleBlock(Tensor table, LayerNorm norm1, SelfAttention attn, CrossAttention cross, LayerNorm norm2, Mlp mlp) {
        this.table = table == null ? null : table.toF32();
        this.norm1 = norm1;
        this.attn = attn;
        this.cross = cross;
        this.norm2 = norm2;
        this.mlp = mlp;
        this.attnInput = new InputScaling(attn.inputLinears().getFirst().name(), attn.inputLinears());
        this.mlpInput = new InputScaling(mlp.inputLinear().name(), List.of(mlp.inputLinear()));
    }

    /** DiT's block body under {@code prefix}: attn.qkv|proj and mlp.fc1|fc2, no table, no cross-attention. */
    public static AdaLnSingleBlock loadDiT(Weights w, String prefix, int dim, int heads, int mlpHidden) {
        return new AdaLnSingleBlock(null, LayerNorm.plain(1e-6f), SelfAttention.loadFused(w, prefix + ".attn", dim, heads),
                null, LayerNorm.plain(1e-6f),
                Mlp.load(w, prefix + ".mlp.fc1", prefix + ".mlp.fc2", dim, mlpHidden, dim, Activation.GELU_TANH));
    }

    /**
     * Original PixArt / Open-Sora layout under {@code prefix} (e.g. {@code blocks.3}): scale_shift_table [6, H],
     * attn.qkv|proj, cross_attn.q_linear|kv_linear|proj, mlp.fc1|fc2; LayerNorms without affine, eps 1e-6.
     */
    public static AdaLnSingleBlock loadOriginal(Weights w, String prefix, int dim, int heads, int mlpHidden) {
        return new AdaLnSingleBlock(w.takeF32(prefix + ".scale_shift_table", 6, dim), LayerNorm.plain(1e-6f),
                SelfAttention.loadFused(w, prefix + ".attn", dim, heads),
                CrossAttention.loadFused(w, prefix + ".cross_attn", dim, heads), LayerNorm.plain(1e-6f),
                Mlp.load(w, prefix + ".mlp.fc1", prefix + ".mlp.fc2", dim, mlpHidden, dim, Activation.GELU_TANH));
    }

    /**
     * Open-Sora 1.2 {@code STDiT3Block} under {@code prefix}: the original layout, attention with optional per-head
     * q/k RMSNorm and, in temporal blocks, RoPE over frames.
     */
    public static AdaLnSingleBlock loadOpenSora3(Weights w, String prefix, int dim, int heads, int mlpHidden,
                                                 boolean qkNorm, Rope rope) {
        return new AdaLnSingleBlock(w.takeF32(prefix + ".scale_shift_table", 6, dim), LayerNorm.plain(1e-6f),
                SelfAttention.loadFusedQkNorm(w, prefix + ".attn", dim, heads, qkNorm, rope),
                CrossAttention.loadFused(w, prefix + ".cross_attn", dim, heads), LayerNorm.plain(1e-6f),
                Mlp.load(w, prefix + ".mlp.fc1", prefix + ".mlp.fc2", dim, mlpHidden, dim, Activation.GELU_TANH));
    }

    /** The options of diffusers' BasicTransformerBlock with norm_type "ada_norm_single". */
    public record DiffusersOptions(int dim, int heads, int contextDim, int ffHidden, boolean attentionBias,
                                   boolean outBias, boolean normAffine, float normEps, Activation activation) {}

    /**
     * diffusers layout under {@code prefix} (e.g. {@code transformer_blocks.3}): scale_shift_table, norm1/norm2
     * (affine when configured), attn1.*, attn2.* when {@code withCross}, ff.net.0.proj and ff.net.2.
     */
    public static AdaLnSingleBlock loadDiffusers(Weights w, String prefix, DiffusersOptions o, boolean withCross) {
        CrossAttention cross = withCross ? CrossAttention.loadSplit(w, prefix + ".attn2", o.dim(), o.contextDim(), o.heads(),
                o.attentionBias(), o.outBias()) : null;
        return new AdaLnSingleBlock(w.takeF32(prefix + ".scale_shift_table", 6, o.dim()),
                LayerNorm.load(w, prefix + ".norm1", o.dim(), o.normAffine(), o.normEps()),
                SelfAttention.loadSplit(w, prefix + ".attn1", o.dim(), o.heads(), o.attentionBias(), o.outBias()),
                cross, LayerNorm.load(w, prefix + ".norm2", o.dim(), o.normAffine(), o.normEps()),
                Mlp.load(w, prefix + ".ff.net.0.proj", prefix + ".ff.net.2", o.dim(), o.ffHidden(), o.dim(), o.activation()));
    }

    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attn.linears());
        if (cross != null) all.addAll(cross.linears());
        all.addAll(mlp.linears());
        return all;
    }

    /**
     * Where a per-channel scale of a Linear's input can be folded: the modulation before the attention and the one
     * before the MLP (LN without affine, then x·(1 + scale) + shift, whose vectors absorb m). The cross-attention's
     * inputs (residual stream, caption) and fc2's (GELU output) have no such producer.
     */
    public List<InputScaling> inputScalings() {
        return List.of(attnInput, mlpInput);
    }

    /** The groups of separate Linears reading one input: split q/k/v of the attention, split k/v of the cross-attention. */
    public List<SharedInput> sharedInputs() {
        List<SharedInput> all = new ArrayList<>(attn.sharedInputs());
        if (cross != null) all.addAll(cross.sharedInputs());
        return all;
    }

    /** This block's (shift, scale, gate) ×2 for every sample: table + t6. */
    public Modulation modulation(Tensor t6) {
        if (table == null) throw new IllegalStateException("this block has no scale_shift_table; pass its modulation");
        return Modulation.tablePlus(table, t6);
    }

    /** The whole block, in place on {@code x} [rows, H]; {@code caption} may be null only without cross-attention. */
    public void forward(Tensor x, Tensor t6, Sequences seqs, int batch, Tensor caption, CaptionMask mask) {
        forward(x, modulation(t6), seqs, batch, caption, mask);
    }

    /**
     * The whole block with a given modulation (shift, scale, gate) ×2. Everything it allocates is dead when it
     * returns (x is updated in place), so its activation memory goes back to the pool at once.
     */
    public void forward(Tensor x, Modulation mod, Sequences seqs, int batch, Tensor caption, CaptionMask mask) {
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            selfAttention(x, mod, seqs);
            crossAttention(x, batch, caption, mask);
            mlp(x, mod);
        }
    }

    /** x += g1 · SelfAttn(modulate(LN(x))). Returns nothing: STDiT inserts its temporal branch after this. */
    public void selfAttention(Tensor x, Modulation mod, Sequences seqs) {
        Tensor h = mod.normalizeAndModulate(norm1, x, SHIFT_MSA, SCALE_MSA, attnInput.scale());
        mod.gatedAdd(x, attn.forward(h, seqs), GATE_MSA);
    }

    /** x += CrossAttn(x, caption) — a no-op for blocks without cross-attention. */
    public void crossAttention(Tensor x, int batch, Tensor caption, CaptionMask mask) {
        if (cross == null) return;
        if (caption == null) throw new IllegalArgumentException("this model needs caption embeddings");
        Rows.addInPlace(x, cross.forward(x, batch, caption, mask));
    }

    /** x += g2 · MLP(modulate(LN(x))). */
    public void mlp(Tensor x, Modulation mod) {
        Tensor h = mod.normalizeAndModulate(norm2, x, SHIFT_MLP, SCALE_MLP, mlpInput.scale());
        mod.gatedAdd(x, mlp.forward(h), GATE_MLP);
    }

    /** Index of the self-attention gate, reused by STDiT's temporal branch. */
    public static int gateMsa() {
        return GATE_MSA;
    }
}
