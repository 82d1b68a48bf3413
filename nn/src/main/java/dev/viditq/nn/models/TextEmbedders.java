package dev.viditq.nn.models;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.CaptionMemo;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.Mlp;
import dev.viditq.nn.layers.Rows;
import dev.viditq.nn.layers.TimestepEmbedder;
import dev.viditq.nn.layers.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * The conditioning front end shared by PixArt (both layouts), Open-Sora and Latte: timestep embedding te,
 * optional size / aspect-ratio micro-conditions added to te, the shared adaLN linear t6 = Linear(SiLU(te)),
 * and the caption projection fc2(GELU-tanh(fc1(caption))).
 */
final class TextEmbedders {
    /** Key names of one layout. */
    record Keys(String t1, String t2, String tBlock, String caption1, String caption2,
                String size1, String size2, String ar1, String ar2, String fps1, String fps2) {
        static final Keys ORIGINAL = new Keys("t_embedder.mlp.0", "t_embedder.mlp.2", "t_block.1",
                "y_embedder.y_proj.fc1", "y_embedder.y_proj.fc2",
                "csize_embedder.mlp.0", "csize_embedder.mlp.2", "ar_embedder.mlp.0", "ar_embedder.mlp.2",
                "fps_embedder.mlp.0", "fps_embedder.mlp.2");
        static final Keys DIFFUSERS = new Keys("adaln_single.emb.timestep_embedder.linear_1",
                "adaln_single.emb.timestep_embedder.linear_2", "adaln_single.linear",
                "caption_projection.linear_1", "caption_projection.linear_2",
                "adaln_single.emb.resolution_embedder.linear_1", "adaln_single.emb.resolution_embedder.linear_2",
                "adaln_single.emb.aspect_ratio_embedder.linear_1", "adaln_single.emb.aspect_ratio_embedder.linear_2",
                null, null);
    }

    /** te plus the adaLN-single projection of it. */
    record Time(Tensor te, Tensor t6) {}

    private final TimestepEmbedder timestep;
    private final TimestepEmbedder size;        // null without micro-conditions
    private final TimestepEmbedder aspectRatio; // null without micro-conditions
    private final TimestepEmbedder fps;         // Open-Sora 1.2 only
    private final Linear tBlock;
    private final Mlp caption;
    private final int captionChannels;
    private final CaptionMemo captionMemo = new CaptionMemo();

    TextEmbedders(Weights w, Keys keys, int hidden, int captionChannels, boolean microConditions) {
        this(w, keys, hidden, captionChannels, microConditions, false);
    }

    /** @param fpsConditioning Open-Sora 1.2: te also gets the frame-rate embedding (fps_embedder, width H) */
    TextEmbedders(Weights w, Keys keys, int hidden, int captionChannels, boolean microConditions, boolean fpsConditioning) {
        this.captionChannels = captionChannels;
        fps = fpsConditioning ? TimestepEmbedder.load(w, keys.fps1(), keys.fps2(), hidden) : null;
        timestep = TimestepEmbedder.load(w, keys.t1(), keys.t2(), hidden);
        if (microConditions) {
            if (hidden % 3 != 0) {
                throw new IllegalArgumentException("micro-conditions split the width in thirds; " + hidden + " is not divisible by 3");
            }
            size = TimestepEmbedder.load(w, keys.size1(), keys.size2(), hidden / 3);
            aspectRatio = TimestepEmbedder.load(w, keys.ar1(), keys.ar2(), hidden / 3);
        } else {
            size = null;
            aspectRatio = null;
        }
        tBlock = Linear.load(w, keys.tBlock(), hidden, 6 * hidden);
        caption = Mlp.load(w, keys.caption1(), keys.caption2(), captionChannels, hidden, hidden, Activation.GELU_TANH);
    }

    List<Linear> linears() {
        List<Linear> all = new ArrayList<>(timestep.linears());
        if (size != null) {
            all.addAll(size.linears());
            all.addAll(aspectRatio.linears());
        }
        if (fps != null) all.addAll(fps.linears());
        all.add(tBlock);
        all.addAll(caption.linears());
        return all;
    }

    /** te = t_emb(t) (+ cat(size(img_hw), ar(aspect_ratio))) (+ fps_emb(fps)), t6 = Linear(SiLU(te)). */
    Time time(Tensor timesteps, Conditioning cond, int batch) {
        Tensor te = timestep.embed(Inputs.timesteps(timesteps, batch));
        if (size != null) {
            Tensor sizes = size.embedScalars(Inputs.perSampleScalars(cond.imageHw(), batch, 2, "image size (img_hw)"), batch, 2);
            Tensor ar = aspectRatio.embedScalars(Inputs.perSampleScalars(cond.aspectRatio(), batch, 1, "aspect_ratio"), batch, 1);
            Rows.addInPlace(te, concatColumns(sizes, ar));
        }
        if (fps != null) {
            Rows.addInPlace(te, fps.embedScalars(Inputs.perSampleScalars(cond.fps(), batch, 1, "fps"), batch, 1));
        }
        return new Time(te, tBlock.forward(Rows.silu(te)));
    }

    /**
     * Caption embeddings [B, L, Dt] → [B, L, H]; the same tensor as last time while the caption and its mask are
     * ({@link CaptionMemo}: the cross-attentions then reuse their keys and values).
     */
    Tensor caption(Conditioning cond, int batch) {
        return captionMemo.embed(caption.linears(), batch, () -> caption.forward(Inputs.caption(cond.caption(), batch, captionChannels)),
                cond.caption(), cond.captionMask());
    }

    private static Tensor concatColumns(Tensor a, Tensor b) {
        int rows = a.size(0), wa = a.size(1), wb = b.size(1);
        float[] av = a.toFloatArray(), bv = b.toFloatArray();
        float[] out = new float[rows * (wa + wb)];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(av, r * wa, out, r * (wa + wb), wa);
            System.arraycopy(bv, r * wb, out, r * (wa + wb) + wa, wb);
        }
        return Tensor.of(out, rows, wa + wb);
    }
}
