package dev.viditq.nn.models.wan;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.layers.LayerNorm;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.Mlp;
import dev.viditq.nn.layers.Modulation;
import dev.viditq.nn.layers.Rows;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.nn.layers.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' {@code WanTransformerBlock}:
 * <pre>
 *   (sh, sc, g, c_sh, c_sc, c_g) = scale_shift_table + time_proj(SiLU(temb))[b]
 *   x += g · attn1(LN(x)·(1 + sc) + sh)                 (self-attention, 3D RoPE)
 *   x += attn2(norm2(x), context)                        (cross-attention; norm2 affine when cross_attn_norm)
 *   x += c_g · ffn(LN(x)·(1 + c_sc) + c_sh)              (ffn: linear, GELU-tanh, linear)
 * </pre>
 * The LayerNorms have no affine parameters except norm2 and share the config's eps. Everything is float32 here,
 * which is what the official code's FP32LayerNorms and .float() residual adds compute.
 */
public final class WanBlock {
    private static final int SHIFT = 0, SCALE = 1, GATE = 2, FFN_SHIFT = 3, FFN_SCALE = 4, FFN_GATE = 5;

    private final Tensor table;          // F32 [6, dim]
    private final LayerNorm norm1;
    private final WanAttention attn1;
    private final LayerNorm norm2;       // null: identity (cross_attn_norm false)
    private final WanAttention attn2;
    private final LayerNorm norm3;
    private final Mlp ffn;
    private final InputScaling attnInput;
    private final InputScaling ffnInput;

    private WanBlock(Tensor table, LayerNorm norm1, WanAttention attn1, LayerNorm norm2, WanAttention attn2, LayerNorm norm3,
                     Mlp ffn) {
        this.table = table;
        this.norm1 = norm1;
        this.attn1 = attn1;
        this.norm2 = norm2;
        this.attn2 = attn2;
        this.norm3 = norm3;
        this.ffn = ffn;
        this.attnInput = new InputScaling(attn1.inputLinears().getFirst().name(), attn1.inputLinears());
        this.ffnInput = new InputScaling(ffn.inputLinear().name(), List.of(ffn.inputLinear()));
    }

    /**
     * Block {@code prefix} (e.g. {@code blocks.3}): scale_shift_table [1, 6, dim], attn1.*, attn2.* (with the added
     * K/V branch when {@code addedKvDim} &gt; 0), norm2.weight/bias when {@code crossAttnNorm}, ffn.net.0.proj, ffn.net.2.
     */
    public static WanBlock load(Weights w, String prefix, WanConfig c) {
        int dim = c.dim();
        return new WanBlock(w.takeF32(prefix + ".scale_shift_table", 1, 6, dim).reshape(6, dim), LayerNorm.plain(c.eps()),
                WanAttention.load(w, prefix + ".attn1", WanAttention.Role.SELF, dim, c.heads(), c.eps(), 0),
                c.crossAttnNorm() ? LayerNorm.load(w, prefix + ".norm2", dim, true, c.eps()) : null,
                WanAttention.load(w, prefix + ".attn2", WanAttention.Role.CROSS, dim, c.heads(), c.eps(), c.addedKvDim()),
                LayerNorm.plain(c.eps()),
                Mlp.load(w, prefix + ".ffn.net.0.proj", prefix + ".ffn.net.2", dim, c.ffnDim(), dim, Activation.GELU_TANH));
    }

    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attn1.linears());
        all.addAll(attn2.linears());
        all.addAll(ffn.linears());
        return all;
    }

    /** The two modulated inputs where a per-channel scale can be folded: attn1's q/k/v and the ffn's first linear. */
    public List<InputScaling> inputScalings() {
        return List.of(attnInput, ffnInput);
    }

    /** The groups of Linears reading one input: attn1's q/k/v, attn2's k/v (and the I2V image branch's). */
    public List<SharedInput> sharedInputs() {
        List<SharedInput> all = new ArrayList<>(attn1.sharedInputs());
        all.addAll(attn2.sharedInputs());
        return all;
    }

    /**
     * In place on x [samples·tokens, dim]. Everything allocated inside is dead when it returns, so its activation
     * memory goes back to the pool at once.
     *
     * @param timestepProj [samples, 6·dim], the shared time_proj output
     * @param context      [samples, L, dim], the projected caption (image tokens in front for I2V)
     */
    public void forward(Tensor x, int samples, Tensor timestepProj, WanRope.Grid rope, Tensor context) {
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            forwardInScope(x, samples, timestepProj, rope, context);
        }
    }

    private void forwardInScope(Tensor x, int samples, Tensor timestepProj, WanRope.Grid rope, Tensor context) {
        Modulation mod = Modulation.tablePlus(table, timestepProj);
        Tensor h = mod.normalizeAndModulate(norm1, x, SHIFT, SCALE, attnInput.scale());
        mod.gatedAdd(x, attn1.self(h, samples, rope), GATE);

        Tensor c = norm2 == null ? x : norm2.forward(x);
        Rows.addInPlace(x, attn2.cross(c, samples, context));

        h = mod.normalizeAndModulate(norm3, x, FFN_SHIFT, FFN_SCALE, ffnInput.scale());
        mod.gatedAdd(x, ffn.forward(h), FFN_GATE);
    }
}
