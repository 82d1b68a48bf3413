package dev.viditq.nn.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * PixArt-α / PixArt-Σ in the original layout (PixArt-alpha / PixArt-sigma {@code PixArt.py}, {@code PixArtMS.py}):
 * adaLN-single blocks with cross-attention to the T5 caption. Config: the constructor arguments (input_size,
 * patch_size, in_channels, hidden_size, depth, num_heads, mlp_ratio, caption_channels, model_max_length,
 * lewei_scale (α) or pe_interpolation (Σ), base_size (default input_size / patch_size), pred_sigma,
 * micro_condition). Micro-conditions (PixArtMS-α, Σ with micro_condition) are on when the config says so or, absent
 * the key, when the checkpoint has {@code csize_embedder}. The positional embedding is computed for the actual
 * (possibly non-square) grid, as PixArtMS does; the stored {@code pos_embed} buffer is not read.
 * Not supported (refused at load): Σ's KV compression and qk-norm, α's windowed attention.
 */
public final class PixArt extends BaseDenoiser {
    private final PatchEmbed patchEmbed;
    private final TextEmbedders embedders;
    private final Tensor nullCaption;
    private final List<AdaLnSingleBlock> blocks = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final double baseSize;
    private final double peScale;

    private PixArt(TensorFile file, ModelInfo info, Weights w, ModelConfig cfg) {
        super(file, info);
        int h = info.hidden();
        baseSize = cfg.getDouble("base_size", (double) (info.sampleSize() / info.patchSize()));
        peScale = cfg.has("pe_interpolation") ? cfg.getDouble("pe_interpolation") : cfg.getDouble("lewei_scale", 1.0);
        int mlpHidden = (int) (h * cfg.getDouble("mlp_ratio", 4.0));
        patchEmbed = PatchEmbed.load2d(w, "x_embedder.proj", info.inChannels(), h, info.patchSize());
        w.ignore("pos_embed");
        embedders = new TextEmbedders(w, TextEmbedders.Keys.ORIGINAL, h, info.captionChannels(), info.microConditions());
        nullCaption = w.take("y_embedder.y_embedding", info.captionTokens(), info.captionChannels());
        register(embedders.linears());
        for (int i = 0; i < info.depth(); i++) {
            AdaLnSingleBlock block = AdaLnSingleBlock.loadOriginal(w, "blocks." + i, h, info.heads(), mlpHidden);
            blocks.add(block);
            register(block);
        }
        finalLayer = FinalLayer.loadTable(w, "final_layer.scale_shift_table", "final_layer.linear", h,
                info.patchSize() * info.patchSize() * info.outChannels());
        register(finalLayer.linears());
    }

    static PixArt load(ModelConfig cfg, TensorFile file) {
        refuseUnsupported(cfg);
        int in = cfg.getInt("in_channels", 4);
        boolean predSigma = cfg.getBool("pred_sigma", true);
        boolean micro = cfg.has("micro_condition") ? cfg.getBool("micro_condition", false)
                : file.contains("csize_embedder.mlp.0.weight");
        ModelInfo info = ModelInfo.builder(ModelFamily.PIXART).inChannels(in).outChannels(predSigma ? 2 * in : in)
                .patchSize(cfg.getInt("patch_size", 2)).sampleSize(cfg.getInt("input_size", 32)).hidden(cfg.getInt("hidden_size"))
                .depth(cfg.getInt("depth")).heads(cfg.getInt("num_heads")).captionChannels(cfg.getInt("caption_channels", 4096))
                .captionTokens(cfg.getInt("model_max_length", 120)).microConditions(micro).build();
        Weights w = new Weights(file);
        PixArt model = new PixArt(file, info, w, cfg);
        w.finish();
        return model;
    }

    private static void refuseUnsupported(ModelConfig cfg) {
        if (cfg.getBool("qk_norm", false)) throw cfg.error("qk_norm is not supported (PixArt-Σ releases do not use it)");
        JsonNode kv = cfg.node("kv_compress_config");
        if (kv != null && kv.has("kv_compress_layer") && !kv.get("kv_compress_layer").isEmpty()) {
            throw cfg.error("KV compression (kv_compress_config) is not supported; use the plain PixArt-Σ config");
        }
        JsonNode windows = cfg.node("window_block_indexes");
        if (windows != null && !windows.isEmpty()) throw cfg.error("windowed attention (window_block_indexes) is not supported");
    }

    @Override
    public Optional<Tensor> nullCaption() {
        return Optional.of(nullCaption);
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        Tensor xf = checkLatent(x);
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch(), h = info().hidden();
        Tensor tokens = patchEmbed.forward(xf);
        Rows.addTableRows(tokens, table("pos " + grid.gh() + "x" + grid.gw(), () -> SinCos.grid2d(h, grid.gh(), grid.gw(), baseSize, peScale)), h,
                r -> r % grid.tokensPerFrame());

        TextEmbedders.Time time = embedders.time(timesteps, cond, batch);
        Tensor caption = embedders.caption(cond, batch);
        CaptionMask mask = cond.captionMask() == null ? CaptionMask.none()
                : CaptionMask.dropMasked(cond.captionMask(), caption.size(1));
        Sequences seqs = Sequences.whole(batch, grid.tokensPerFrame());
        for (AdaLnSingleBlock block : blocks) block.forward(tokens, time.t6(), seqs, batch, caption, mask);
        Tensor out = finalLayer.forward(tokens, time.te());
        return PatchEmbed.unpatchify(out, grid, info().patchSize(), info().outChannels(), false);
    }
}
