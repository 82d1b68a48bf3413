package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Open-Sora v1.2 {@code STDiT3} (video, x [B, C, T, H, W]), checked against the official code's outputs (golden
 * case {@code stdit3}). Per depth index a spatial block ({@code spatial_blocks.i}, attention over the S patches of
 * each frame) then a temporal block ({@code temporal_blocks.i}, attention over the T frames of each patch, RoPE
 * after the per-head q/k RMSNorm); both are full PixArt-style blocks with cross-attention. No temporal PE;
 * te = t_emb(t) + fps_emb(fps). The spatial positional embedding is scaled by sqrt(height·width) / input_sq_size of
 * the first sample and uses base_size = round(sqrt(S)).
 *
 * <p>The frame mask ({@code x_mask}, {@link #forward(Tensor, Tensor, Conditioning, Tensor)}) marks the frames being
 * denoised; the others (reference frames of image/video conditioning) are modulated with the embedding of
 * timestep 0 in every block and in the final layer, as the official {@code t_mask_select} does.
 */
public final class STDiT3 extends BaseDenoiser {
    private final PatchEmbed patchEmbed;
    private final TextEmbedders embedders;
    private final Tensor nullCaption;
    private final List<AdaLnSingleBlock> spatialBlocks = new ArrayList<>();
    private final List<AdaLnSingleBlock> temporalBlocks = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final double inputSqSize;

    private STDiT3(TensorFile file, ModelInfo info, Weights w, ModelConfig cfg) {
        super(file, info);
        int h = info.hidden(), p = info.patchSize(), heads = info.heads();
        inputSqSize = cfg.getDouble("input_sq_size", 512);
        boolean qkNorm = cfg.getBool("qk_norm", true);
        int mlpHidden = (int) (h * cfg.getDouble("mlp_ratio", 4.0));
        // RotaryEmbedding is a submodule whose frequencies are a (frozen) parameter: use them when stored
        Tensor storedFreqs = w.takeOptional("rope.freqs", (h / heads) / 2);
        Rope rope = storedFreqs != null ? new Rope(storedFreqs.toFloatArray()) : Rope.standard(h / heads);
        patchEmbed = PatchEmbed.load3dFramewise(w, "x_embedder.proj", info.inChannels(), h, p);
        embedders = new TextEmbedders(w, TextEmbedders.Keys.ORIGINAL, h, info.captionChannels(), false, true);
        nullCaption = w.take("y_embedder.y_embedding", info.captionTokens(), info.captionChannels());
        register(embedders.linears());
        for (int i = 0; i < info.depth(); i++) {
            AdaLnSingleBlock spatial = AdaLnSingleBlock.loadOpenSora3(w, "spatial_blocks." + i, h, heads, mlpHidden, qkNorm, null);
            AdaLnSingleBlock temporal = AdaLnSingleBlock.loadOpenSora3(w, "temporal_blocks." + i, h, heads, mlpHidden, qkNorm, rope);
            spatialBlocks.add(spatial);
            temporalBlocks.add(temporal);
            register(spatial);
            register(temporal);
        }
        finalLayer = FinalLayer.loadTable(w, "final_layer.scale_shift_table", "final_layer.linear", h, p * p * info.outChannels());
        register(finalLayer.linears());
    }

    static STDiT3 load(ModelConfig cfg, TensorFile file) {
        int[] patch = cfg.has("patch_size") ? cfg.getIntList("patch_size") : new int[]{1, 2, 2};
        if (patch.length != 3 || patch[0] != 1 || patch[1] != patch[2]) {
            throw cfg.error("patch_size must be [1, p, p] (temporal patches are not supported), is " + java.util.Arrays.toString(patch));
        }
        if (cfg.getBool("skip_y_embedder", false)) {
            throw cfg.error("skip_y_embedder = true (captions already projected) is not supported: the caption embedder runs here");
        }
        int in = cfg.getInt("in_channels", 4);
        boolean predSigma = cfg.getBool("pred_sigma", true);
        int[] size = cfg.has("input_size") && cfg.node("input_size").isArray() && cfg.node("input_size").get(1).isNumber()
                ? cfg.getIntList("input_size") : new int[]{0, 0, 0}; // the released config leaves sizes dynamic (null)
        ModelInfo info = ModelInfo.builder(ModelFamily.STDIT3).inChannels(in).outChannels(predSigma ? 2 * in : in)
                .patchSize(patch[1]).sampleSize(size[1]).frames(size[0]).hidden(cfg.getInt("hidden_size", 1152))
                .depth(cfg.getInt("depth", 28)).heads(cfg.getInt("num_heads", 16)).captionChannels(cfg.getInt("caption_channels", 4096))
                .captionTokens(cfg.getInt("model_max_length", 300)).build();
        Weights w = new Weights(file);
        STDiT3 model = new STDiT3(file, info, w, cfg);
        w.finish();
        return model;
    }

    @Override
    public Optional<Tensor> nullCaption() {
        return Optional.of(nullCaption);
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        return forward(x, timesteps, cond, null);
    }

    /**
     * The official {@code forward(x, timestep, y, mask, x_mask, fps, height, width)}.
     *
     * @param frameMask {@code x_mask} [B, T]: non-zero for the frames being denoised, zero for frames modulated
     *                  with timestep 0; null = every frame denoised (plain text-to-video, same as all non-zero)
     */
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond, Tensor frameMask) {
        Tensor xf = padToPatches(checkLatent(x));
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch(), h = info().hidden(), frames = grid.frames(), perFrame = grid.tokensPerFrame();
        Tensor tokens = patchEmbed.forward(xf);
        double scale = positionScale(cond);
        float[] pos = table("pos " + grid.gh() + "x" + grid.gw() + " scale " + scale,
                () -> SinCos.grid2dScaleFirst(h, grid.gh(), grid.gw(), Math.rint(Math.sqrt(perFrame)), scale));
        Rows.addTableRows(tokens, pos, h, r -> r % perFrame);

        TextEmbedders.Time time = embedders.time(timesteps, cond, batch);
        boolean[] live = frameMask == null ? null : frameFlags(frameMask, batch, frames);
        TextEmbedders.Time zero = live == null ? null : embedders.time(Tensor.zeros(batch), cond, batch);
        // with a frame mask the blocks modulate per (sample, frame): each such row of t6 covers S contiguous tokens
        Tensor t6 = live == null ? time.t6() : perFrame(time.t6(), zero.t6(), live);
        Tensor caption = embedders.caption(cond, batch);
        CaptionMask mask = cond.captionMask() == null ? CaptionMask.none()
                : CaptionMask.dropMasked(cond.captionMask(), caption.size(1));
        Sequences spatial = Sequences.spatial(batch, frames, perFrame);
        Sequences overTime = Sequences.temporal(batch, frames, perFrame);
        for (int i = 0; i < spatialBlocks.size(); i++) {
            spatialBlocks.get(i).forward(tokens, t6, spatial, batch, caption, mask);
            temporalBlocks.get(i).forward(tokens, t6, overTime, batch, caption, mask);
        }
        Tensor out = live == null ? finalLayer.forward(tokens, time.te())
                : finalLayer.forwardFrameMasked(tokens, time.te(), zero.te(), live);
        return cropTo(PatchEmbed.unpatchify(out, grid, info().patchSize(), info().outChannels(), true), x.size(3), x.size(4));
    }

    /**
     * x zero-padded at the bottom and right to multiples of the patch size, as the official PatchEmbed3D pads (240p
     * at 9:16 has 53 latent rows); the output is cropped back ({@link #cropTo}).
     */
    private Tensor padToPatches(Tensor x) {
        int p = info().patchSize(), h = x.size(3), w = x.size(4);
        int ph = Math.ceilDiv(h, p) * p, pw = Math.ceilDiv(w, p) * p;
        return ph == h && pw == w ? x : resizePlanes(x, ph, pw);
    }

    private static Tensor cropTo(Tensor y, int h, int w) {
        return y.size(3) == h && y.size(4) == w ? y : resizePlanes(y, h, w);
    }

    /** Every [H, W] plane of a [B, C, T, H, W] tensor cut or zero-extended at the bottom and right to [h, w]. */
    private static Tensor resizePlanes(Tensor x, int h, int w) {
        int planes = x.size(0) * x.size(1) * x.size(2), srcH = x.size(3), srcW = x.size(4);
        Tensor out = Tensor.zeros(x.size(0), x.size(1), x.size(2), h, w);
        long rowBytes = (long) Math.min(w, srcW) * Float.BYTES;
        for (int pl = 0; pl < planes; pl++) {
            for (int r = 0; r < Math.min(h, srcH); r++) {
                out.data().asSlice(((long) pl * h + r) * w * Float.BYTES, rowBytes)
                        .copyFrom(x.data().asSlice(((long) pl * srcH + r) * srcW * Float.BYTES, rowBytes));
            }
        }
        return out;
    }

    /** x_mask [B, T] (any dtype, [B, 1, T] accepted) as one flag per (sample, frame). */
    private static boolean[] frameFlags(Tensor mask, int batch, int frames) {
        if (mask.numel() != (long) batch * frames) {
            throw new IllegalArgumentException("frame mask (x_mask) " + mask + " must hold one value per sample and frame ["
                    + batch + ", " + frames + "]");
        }
        boolean[] live = new boolean[batch * frames];
        for (int i = 0; i < live.length; i++) live[i] = mask.getFloat(i) != 0;
        return live;
    }

    /** [B, W] rows → [B·T, W]: row (b, f) from {@code denoised} where the frame is live, else from {@code zero}. */
    private static Tensor perFrame(Tensor denoised, Tensor zero, boolean[] liveFrames) {
        int batch = denoised.size(0), width = Math.toIntExact(denoised.numel() / batch), frames = liveFrames.length / batch;
        float[] a = denoised.toFloatArray(), z = zero.toFloatArray();
        float[] out = new float[liveFrames.length * width];
        for (int b = 0; b < batch; b++) {
            for (int f = 0; f < frames; f++) {
                System.arraycopy(liveFrames[b * frames + f] ? a : z, b * width, out, (b * frames + f) * width, width);
            }
        }
        return Tensor.of(out, liveFrames.length, width);
    }

    /** sqrt(height·width) of the first sample, in pixels, over input_sq_size. */
    private double positionScale(Conditioning cond) {
        Tensor hw = cond.imageHw();
        if (hw == null || hw.numel() < 2) {
            throw new IllegalArgumentException("Open-Sora 1.2 needs the video height and width in pixels (img_hw / height, width)");
        }
        return Math.sqrt((double) hw.getFloat(0) * hw.getFloat(1)) / inputSqSize;
    }
}
