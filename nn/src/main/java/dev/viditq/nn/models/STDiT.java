package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Open-Sora v1.0 {@code STDiT} (video, x [B, C, T, H, W]): a PixArt block per layer with a temporal attention
 * inserted after the spatial one:
 * <pre>
 *   x += g1 · SpatialAttn(modulate(LN(x)))            over the S patches of each frame
 *   x += g1 · TemporalAttn(x (+ temporal PE, block 0)) over the T frames of each patch; no norm, same gate g1
 *   x += CrossAttn(x, caption);  x += g2 · MLP(modulate(LN(x)))
 * </pre>
 * Config: the constructor arguments (input_size [T, H, W], patch_size [1, p, p], in_channels, hidden_size, depth,
 * num_heads, mlp_ratio, caption_channels, model_max_length, space_scale, time_scale, pred_sigma). Spatial PE
 * positions are index / space_scale, temporal ones index / time_scale, computed for the actual input size (the
 * stored {@code pos_embed} buffers are not read). Caption masks: masked tokens removed, as the official code does.
 */
public final class STDiT extends BaseDenoiser {
    private final PatchEmbed patchEmbed;
    private final TextEmbedders embedders;
    private final Tensor nullCaption;
    private final List<AdaLnSingleBlock> blocks = new ArrayList<>();
    private final List<SelfAttention> temporal = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final double spaceScale;
    private final double timeScale;

    private STDiT(TensorFile file, ModelInfo info, Weights w, ModelConfig cfg) {
        super(file, info);
        int h = info.hidden(), p = info.patchSize();
        spaceScale = cfg.getDouble("space_scale", 1.0);
        timeScale = cfg.getDouble("time_scale", 1.0);
        int mlpHidden = (int) (h * cfg.getDouble("mlp_ratio", 4.0));
        patchEmbed = PatchEmbed.load3dFramewise(w, "x_embedder.proj", info.inChannels(), h, p);
        w.ignore("pos_embed");
        w.ignore("pos_embed_temporal");
        embedders = new TextEmbedders(w, TextEmbedders.Keys.ORIGINAL, h, info.captionChannels(), false);
        nullCaption = w.take("y_embedder.y_embedding", info.captionTokens(), info.captionChannels());
        register(embedders.linears());
        for (int i = 0; i < info.depth(); i++) {
            AdaLnSingleBlock block = AdaLnSingleBlock.loadOriginal(w, "blocks." + i, h, info.heads(), mlpHidden);
            SelfAttention attnTemp = SelfAttention.loadFused(w, "blocks." + i + ".attn_temp", h, info.heads());
            blocks.add(block);
            temporal.add(attnTemp);
            register(block);
            register(attnTemp.linears());
        }
        finalLayer = FinalLayer.loadTable(w, "final_layer.scale_shift_table", "final_layer.linear", h, p * p * info.outChannels());
        register(finalLayer.linears());
    }

    static STDiT load(ModelConfig cfg, TensorFile file) {
        int[] patch = cfg.has("patch_size") ? cfg.getIntList("patch_size") : new int[]{1, 2, 2};
        if (patch.length != 3 || patch[0] != 1 || patch[1] != patch[2]) {
            throw cfg.error("patch_size must be [1, p, p] (temporal patches are not supported), is " + java.util.Arrays.toString(patch));
        }
        int[] size = cfg.has("input_size") ? cfg.getIntList("input_size") : new int[]{1, 32, 32};
        if (size.length != 3) throw cfg.error("input_size must be [T, H, W]");
        int in = cfg.getInt("in_channels", 4);
        boolean predSigma = cfg.getBool("pred_sigma", true);
        ModelInfo info = ModelInfo.builder(ModelFamily.STDIT).inChannels(in).outChannels(predSigma ? 2 * in : in)
                .patchSize(patch[1]).sampleSize(size[1]).frames(size[0]).hidden(cfg.getInt("hidden_size"))
                .depth(cfg.getInt("depth")).heads(cfg.getInt("num_heads")).captionChannels(cfg.getInt("caption_channels", 4096))
                .captionTokens(cfg.getInt("model_max_length", 120)).build();
        Weights w = new Weights(file);
        STDiT model = new STDiT(file, info, w, cfg);
        w.finish();
        return model;
    }

    @Override
    public Optional<Tensor> nullCaption() {
        return Optional.of(nullCaption);
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        Tensor xf = checkLatent(x);
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch(), h = info().hidden(), frames = grid.frames(), perFrame = grid.tokensPerFrame();
        Tensor tokens = patchEmbed.forward(xf);
        Rows.addTableRows(tokens, table("pos " + grid.gh() + "x" + grid.gw(), () -> SinCos.grid2d(h, grid.gh(), grid.gw(), Double.NaN, spaceScale)), h, r -> r % perFrame);
        float[] temporalPe = table("time " + frames, () -> SinCos.line1d(h, frames, timeScale));

        TextEmbedders.Time time = embedders.time(timesteps, cond, batch);
        Tensor caption = embedders.caption(cond, batch);
        CaptionMask mask = cond.captionMask() == null ? CaptionMask.none()
                : CaptionMask.dropMasked(cond.captionMask(), caption.size(1));
        Sequences spatial = Sequences.spatial(batch, frames, perFrame);
        Sequences overTime = Sequences.temporal(batch, frames, perFrame);
        for (int i = 0; i < blocks.size(); i++) {
            // the block's parts with the temporal branch between them; tokens change in place, so everything else
            // allocated here is dead at the block's end and goes back to the pool then (as AdaLnSingleBlock.forward)
            try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
                AdaLnSingleBlock block = blocks.get(i);
                Modulation mod = block.modulation(time.t6());
                block.selfAttention(tokens, mod, spatial);
                // the temporal branch reads the tokens (its output is a new tensor); block 0 adds the temporal
                // position embedding to a copy of them
                Tensor xt = tokens;
                if (i == 0) {
                    xt = tokens.copy();
                    Rows.addTableRows(xt, temporalPe, h, r -> (r / perFrame) % frames);
                }
                mod.gatedAdd(tokens, temporal.get(i).forward(xt, overTime), AdaLnSingleBlock.gateMsa());
                block.crossAttention(tokens, batch, caption, mask);
                block.mlp(tokens, mod);
            }
        }
        Tensor out = finalLayer.forward(tokens, time.te());
        return PatchEmbed.unpatchify(out, grid, info().patchSize(), info().outChannels(), true);
    }
}
