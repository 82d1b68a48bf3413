package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;

import java.util.ArrayList;
import java.util.List;

/**
 * Latte in the diffusers layout ({@code LatteTransformer3DModel}, Latte-1 T2V), x [B, C, F, H, W]: pairs of a
 * PixArt-style spatial block (with cross-attention) and a temporal block (self-attention over frames + MLP), both
 * modulated by the same t6 with their own tables; the 1D temporal PE is added to the residual stream once, before
 * the first temporal block (only when F > 1). No caption mask: Latte's pipeline truncates the caption to its valid
 * tokens instead. Constructor defaults differ from PixArt's (norm_eps 1e-5, affine norms, no attention bias,
 * "geglu"); the interpolation scale is always max(sample_size / 64, 1), as the class computes it.
 */
public final class Latte extends BaseDenoiser {
    private final PatchEmbed patchEmbed;
    private final TextEmbedders embedders;
    private final List<AdaLnSingleBlock> spatialBlocks = new ArrayList<>();
    private final List<AdaLnSingleBlock> temporalBlocks = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final double baseSize;
    private final double interpolationScale;

    private Latte(TensorFile file, ModelInfo info, Weights w, AdaLnSingleBlock.DiffusersOptions opts) {
        super(file, info);
        int h = info.hidden(), sample = info.sampleSize();
        baseSize = (double) (sample / info.patchSize());
        interpolationScale = Math.max(sample / 64, 1);
        patchEmbed = PatchEmbed.load2d(w, "pos_embed.proj", info.inChannels(), h, info.patchSize());
        w.ignore("pos_embed\\.pos_embed");
        w.ignore("temp_pos_embed");
        embedders = new TextEmbedders(w, TextEmbedders.Keys.DIFFUSERS, h, info.captionChannels(), false);
        register(embedders.linears());
        for (int i = 0; i < info.depth(); i++) {
            AdaLnSingleBlock spatial = AdaLnSingleBlock.loadDiffusers(w, "transformer_blocks." + i, opts, true);
            AdaLnSingleBlock temporal = AdaLnSingleBlock.loadDiffusers(w, "temporal_transformer_blocks." + i, opts, false);
            spatialBlocks.add(spatial);
            temporalBlocks.add(temporal);
            register(spatial);
            register(temporal);
        }
        finalLayer = FinalLayer.loadTable(w, "scale_shift_table", "proj_out", h,
                info.patchSize() * info.patchSize() * info.outChannels());
        register(finalLayer.linears());
    }

    static Latte load(ModelConfig cfg, TensorFile file) {
        String normType = cfg.getString("norm_type", "layer_norm");
        if (!normType.equals("ada_norm_single")) {
            throw cfg.error("norm_type \"" + normType + "\" is not supported for Latte (expected \"ada_norm_single\")");
        }
        int heads = cfg.getInt("num_attention_heads", 16), headDim = cfg.getInt("attention_head_dim", 88);
        int h = heads * headDim;
        int in = cfg.getInt("in_channels");
        ModelInfo info = ModelInfo.builder(ModelFamily.LATTE_DIFFUSERS).inChannels(in).outChannels(cfg.getInt("out_channels", in))
                .patchSize(cfg.getInt("patch_size")).sampleSize(cfg.getInt("sample_size", 64)).frames(cfg.getInt("video_length", 16))
                .hidden(h).depth(cfg.getInt("num_layers", 1)).heads(heads).captionChannels(cfg.getInt("caption_channels")).build();
        Weights w = new Weights(file);
        Latte model = new Latte(file, info, w, PixArtDiffusers.blockOptions(cfg, h, heads, 1e-5f, true, false, "geglu"));
        w.finish();
        return model;
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        Tensor xf = checkLatent(x);
        if (cond.captionMask() != null) {
            throw new IllegalArgumentException("Latte takes no caption mask: truncate the caption to its valid tokens "
                    + "(as the Latte pipeline does)");
        }
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch(), h = info().hidden(), frames = grid.frames(), perFrame = grid.tokensPerFrame();
        Tensor tokens = patchEmbed.forward(xf);
        Rows.addTableRows(tokens, table("pos " + grid.gh() + "x" + grid.gw(), () -> SinCos.grid2d(h, grid.gh(), grid.gw(), baseSize, interpolationScale)), h, r -> r % perFrame);

        TextEmbedders.Time time = embedders.time(timesteps, cond, batch);
        Tensor caption = embedders.caption(cond, batch);
        Sequences spatial = Sequences.spatial(batch, frames, perFrame);
        Sequences overTime = Sequences.temporal(batch, frames, perFrame);
        for (int i = 0; i < spatialBlocks.size(); i++) {
            spatialBlocks.get(i).forward(tokens, time.t6(), spatial, batch, caption, CaptionMask.none());
            if (i == 0 && frames > 1) {
                Rows.addTableRows(tokens, table("time " + frames, () -> SinCos.line1d(h, frames, 1.0)), h, r -> (r / perFrame) % frames);
            }
            temporalBlocks.get(i).forward(tokens, time.t6(), overTime, batch, null, CaptionMask.none());
        }
        Tensor out = finalLayer.forward(tokens, time.te());
        return PatchEmbed.unpatchify(out, grid, info().patchSize(), info().outChannels(), true);
    }
}
