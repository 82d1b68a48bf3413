package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;

import java.util.ArrayList;
import java.util.List;

/**
 * PixArt-α / Σ in the diffusers layout ({@code PixArtTransformer2DModel}): the same network as {@link PixArt},
 * with split q/k/v projections, the caption mask as an additive -10000 bias, and no learned null caption.
 * Config traps reproduced: {@code interpolation_scale} defaults to max(sample_size / 64, 1) and
 * {@code use_additional_conditions} to (sample_size == 128) when absent or null.
 */
public final class PixArtDiffusers extends BaseDenoiser {
    static final float MASKED_BIAS = -10000f;

    private final PatchEmbed patchEmbed;
    private final TextEmbedders embedders;
    private final List<AdaLnSingleBlock> blocks = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final double baseSize;
    private final double interpolationScale;

    private PixArtDiffusers(TensorFile file, ModelInfo info, Weights w, ModelConfig cfg, AdaLnSingleBlock.DiffusersOptions opts) {
        super(file, info);
        int h = info.hidden(), sample = info.sampleSize();
        baseSize = (double) (sample / info.patchSize());
        interpolationScale = cfg.has("interpolation_scale") ? cfg.getDouble("interpolation_scale") : Math.max(sample / 64, 1);
        patchEmbed = PatchEmbed.load2d(w, "pos_embed.proj", info.inChannels(), h, info.patchSize());
        w.ignore("pos_embed\\.pos_embed");
        embedders = new TextEmbedders(w, TextEmbedders.Keys.DIFFUSERS, h, info.captionChannels(), info.microConditions());
        register(embedders.linears());
        for (int i = 0; i < info.depth(); i++) {
            AdaLnSingleBlock block = AdaLnSingleBlock.loadDiffusers(w, "transformer_blocks." + i, opts, true);
            blocks.add(block);
            register(block);
        }
        finalLayer = FinalLayer.loadTable(w, "scale_shift_table", "proj_out", h,
                info.patchSize() * info.patchSize() * info.outChannels());
        register(finalLayer.linears());
    }

    static PixArtDiffusers load(ModelConfig cfg, TensorFile file) {
        String normType = cfg.getString("norm_type", "layer_norm");
        if (!normType.equals("ada_norm_single")) {
            throw cfg.error("norm_type \"" + normType + "\" is not a PixArt transformer (expected \"ada_norm_single\")");
        }
        int heads = cfg.getInt("num_attention_heads", 16), headDim = cfg.getInt("attention_head_dim", 72);
        int h = heads * headDim;
        int in = cfg.getInt("in_channels", 4);
        int sample = cfg.getInt("sample_size", 128);
        boolean micro = cfg.has("use_additional_conditions") ? cfg.getBool("use_additional_conditions", false) : sample == 128;
        ModelInfo info = ModelInfo.builder(ModelFamily.PIXART_DIFFUSERS).inChannels(in).outChannels(cfg.getInt("out_channels", in))
                .patchSize(cfg.getInt("patch_size", 2)).sampleSize(sample).hidden(h).depth(cfg.getInt("num_layers", 28))
                .heads(heads).captionChannels(cfg.getInt("caption_channels")).microConditions(micro).build();
        Weights w = new Weights(file);
        PixArtDiffusers model = new PixArtDiffusers(file, info, w, cfg, blockOptions(cfg, h, heads, 1e-6f, false, true, "gelu-approximate"));
        w.finish();
        return model;
    }

    /**
     * The BasicTransformerBlock options of a diffusers config. PixArt and Latte differ only in their constructor
     * defaults (norm eps, affine norms, attention bias), passed here.
     */
    static AdaLnSingleBlock.DiffusersOptions blockOptions(ModelConfig cfg, int h, int heads, float defaultEps,
                                                          boolean defaultAffine, boolean defaultBias, String defaultActivation) {
        String attentionType = cfg.getString("attention_type", "default");
        if (!attentionType.equals("default")) throw cfg.error("attention_type \"" + attentionType + "\" is not supported");
        return new AdaLnSingleBlock.DiffusersOptions(h, heads, cfg.getInt("cross_attention_dim", h), 4 * h,
                cfg.getBool("attention_bias", defaultBias), cfg.getBool("attention_out_bias", true),
                cfg.getBool("norm_elementwise_affine", defaultAffine), (float) cfg.getDouble("norm_eps", defaultEps),
                Activation.fromDiffusers(cfg.getString("activation_fn", defaultActivation)));
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        Tensor xf = checkLatent(x);
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch(), h = info().hidden();
        Tensor tokens = patchEmbed.forward(xf);
        Rows.addTableRows(tokens, table("pos " + grid.gh() + "x" + grid.gw(), () -> SinCos.grid2d(h, grid.gh(), grid.gw(), baseSize, interpolationScale)), h,
                r -> r % grid.tokensPerFrame());

        TextEmbedders.Time time = embedders.time(timesteps, cond, batch);
        Tensor caption = embedders.caption(cond, batch);
        CaptionMask mask = cond.captionMask() == null ? CaptionMask.none()
                : CaptionMask.additive(cond.captionMask(), caption.size(1), MASKED_BIAS);
        Sequences seqs = Sequences.whole(batch, grid.tokensPerFrame());
        for (AdaLnSingleBlock block : blocks) block.forward(tokens, time.t6(), seqs, batch, caption, mask);
        Tensor out = finalLayer.forward(tokens, time.te());
        return PatchEmbed.unpatchify(out, grid, info().patchSize(), info().outChannels(), false);
    }
}
