package dev.viditq.nn.models;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.RenamedTensorFile;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;
import dev.viditq.nn.models.wan.WanAttention;
import dev.viditq.nn.models.wan.WanBlock;
import dev.viditq.nn.models.wan.WanConfig;
import dev.viditq.nn.models.wan.WanOriginalKeys;
import dev.viditq.nn.models.wan.WanRope;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Wan 2.1's transformer, diffusers' {@code WanTransformer3DModel} (T2V, and I2V with its image embedder and added
 * key/value branch), x [B, C, F, H, W]:
 * <ol>
 *   <li>patch embedding, a Conv3d with kernel = stride = (1, p, p) (kept out of {@link #linears()}, float);</li>
 *   <li>condition embedder: sinusoidal timestep features (freq_dim, [cos, sin], float32), temb = linear_2(SiLU(
 *       linear_1(·))), the shared modulation time_proj(SiLU(temb)) [B, 6·dim]; the caption projected by
 *       linear_2(GELU-tanh(linear_1(·))); I2V: the image states through LN, linear, GELU, linear, LN, put before the
 *       caption;</li>
 *   <li>{@link WanBlock}s, self-attention with 3D RoPE over (frame, row, column) of the patch grid;</li>
 *   <li>head: LN, shift/scale = scale_shift_table [1, 2, dim] + temb (no SiLU, no linear), proj_out, unpatchify.</li>
 * </ol>
 * The caption is attended without a mask: WanPipeline zeroes the rows past each prompt and pads to 512 tokens, and
 * those rows count. {@link #forward(Tensor, Tensor, Conditioning)} applies a given mask the same way (zeroing).
 * The original repository's layout (WanModel keys, {@link WanOriginalKeys}) loads into the same model.
 */
public final class WanTransformer extends BaseDenoiser {
    /**
     * The caption length WanPipeline pads every prompt to (max_sequence_length), the same 512 the I2V attention
     * assumes when it splits image from caption tokens.
     */
    public static final int CAPTION_TOKENS = WanAttention.OFFICIAL_TEXT_TOKENS;
    /** FP32LayerNorm's default eps in the I2V image embedder (its constructor passes none). */
    private static final float IMAGE_NORM_EPS = 1e-5f;

    private final WanConfig config;
    private final PatchEmbed patchEmbed;
    private final TimestepEmbedder timeEmbedder;
    private final Linear timeProj;
    private final Mlp textEmbedder;
    private final ImageEmbedder imageEmbedder; // null for T2V
    private final CaptionMemo contextMemo = new CaptionMemo();   // the projected caption (and image), kept across steps
    private final List<WanBlock> blocks = new ArrayList<>();
    private final Tensor outputTable;          // F32 [2, dim]: shift, scale
    private final LayerNorm normOut;
    private final Linear projOut;
    private final WanRope rope;

    /** diffusers' WanImageEmbedding: LN (affine), linear, exact GELU, linear, LN (affine). */
    private record ImageEmbedder(LayerNorm norm1, Mlp ff, LayerNorm norm2) {
        static ImageEmbedder load(Weights w, int imageDim, int dim) {
            String p = "condition_embedder.image_embedder.";
            return new ImageEmbedder(LayerNorm.load(w, p + "norm1", imageDim, true, IMAGE_NORM_EPS),
                    Mlp.load(w, p + "ff.net.0.proj", p + "ff.net.2", imageDim, imageDim, dim, Activation.GELU_ERF),
                    LayerNorm.load(w, p + "norm2", dim, true, IMAGE_NORM_EPS));
        }

        Tensor forward(Tensor image) {
            return norm2.forward(ff.forward(norm1.forward(image)));
        }
    }

    private WanTransformer(TensorFile file, ModelInfo info, WanConfig c, Weights w) {
        super(file, info);
        this.config = c;
        int dim = c.dim();
        patchEmbed = PatchEmbed.load3dFramewise(w, "patch_embedding", c.inChannels(), dim, c.patch());
        timeEmbedder = TimestepEmbedder.load(w, "condition_embedder.time_embedder.linear_1",
                "condition_embedder.time_embedder.linear_2", dim);
        if (timeEmbedder.linears().getFirst().inFeatures() != c.freqDim()) {
            throw new IllegalArgumentException(file.path() + ": time_embedder.linear_1 takes "
                    + timeEmbedder.linears().getFirst().inFeatures() + " features, the config's freq_dim is " + c.freqDim());
        }
        timeProj = Linear.load(w, "condition_embedder.time_proj", dim, 6 * dim);
        textEmbedder = Mlp.load(w, "condition_embedder.text_embedder.linear_1", "condition_embedder.text_embedder.linear_2",
                c.textDim(), dim, dim, Activation.GELU_TANH);
        imageEmbedder = c.imageToVideo() ? ImageEmbedder.load(w, c.imageDim(), dim) : null;
        register(timeEmbedder.linears());
        register(List.of(timeProj));
        register(textEmbedder.linears());
        if (imageEmbedder != null) register(imageEmbedder.ff().linears());
        for (int i = 0; i < c.layers(); i++) {
            WanBlock block = WanBlock.load(w, "blocks." + i, c);
            blocks.add(block);
            register(block.linears());
            registerInputScalings(block.inputScalings());
            registerSharedInputs(block.sharedInputs());
        }
        outputTable = w.takeF32("scale_shift_table", 1, 2, dim).reshape(2, dim);
        normOut = LayerNorm.plain(c.eps());
        projOut = Linear.load(w, "proj_out", dim, c.outChannels() * c.patch() * c.patch());
        register(List.of(projOut));
        rope = new WanRope(c.headDim(), c.ropeMaxSeqLen());
    }

    /**
     * A Wan transformer folder: config.json and its checkpoint (one file or a shard index), in the diffusers layout
     * ({@code _class_name} WanTransformer3DModel) or the original one ({@code _class_name} WanModel, or WanModel
     * keys). A diffusers pipeline folder is looked into ({@code transformer/}).
     */
    public static WanTransformer load(Path dir) {
        if (!Files.isRegularFile(dir.resolve("config.json")) && Files.isDirectory(dir.resolve("transformer"))) {
            dir = dir.resolve("transformer");
        }
        ModelConfig cfg = ModelConfig.read(dir.resolve("config.json"));
        TensorFile file = Checkpoints.open(Checkpoints.findIn(dir));
        try {
            return load(cfg, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Builds the model from an open checkpoint, which it then owns. */
    static WanTransformer load(ModelConfig cfg, TensorFile file) {
        boolean original = isOriginalLayout(cfg, file);
        WanConfig c = original ? WanConfig.original(cfg) : WanConfig.diffusers(cfg);
        TensorFile view = original ? new RenamedTensorFile(file, WanOriginalKeys::toDiffusers) : file;
        ModelInfo info = ModelInfo.builder(original ? ModelFamily.WAN_ORIGINAL : ModelFamily.WAN).inChannels(c.inChannels()).outChannels(c.outChannels())
                .patchSize(c.patch()).sampleSize(0).frames(0).hidden(c.dim()).depth(c.layers()).heads(c.heads())
                .captionChannels(c.textDim()).captionTokens(CAPTION_TOKENS)
                // I2V stacks the first frame's mask and VAE latents onto the noise: the channels past the output's
                .imageConditionChannels(c.imageToVideo() ? c.inChannels() - c.outChannels() : 0).build();
        Weights w = new Weights(view);
        WanTransformer model = new WanTransformer(view, info, c, w);
        w.finish();
        return model;
    }

    /** The original layout by its config class (WanModel) or, without one, by its keys. */
    private static boolean isOriginalLayout(ModelConfig cfg, TensorFile file) {
        String cls = cfg.getString("_class_name", "");
        return switch (cls) {
            case "WanModel" -> true;
            case "WanTransformer3DModel" -> false;
            case "" -> file.contains("time_projection.1.weight");
            default -> throw cfg.error("_class_name \"" + cls + "\" is not a Wan transformer (WanTransformer3DModel or WanModel)");
        };
    }

    public WanConfig config() {
        return config;
    }

    /**
     * Every tensor of a checkpoint of this configuration in the diffusers layout, name → shape, in load order: what
     * a random-weight checkpoint of real shapes (benchmarks, tests) must hold.
     */
    public static Map<String, long[]> checkpointShapes(WanConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long dim = c.dim();
        s.put("patch_embedding.weight", new long[]{dim, c.inChannels(), 1, c.patch(), c.patch()});
        s.put("patch_embedding.bias", new long[]{dim});
        linear(s, "condition_embedder.time_embedder.linear_1", c.freqDim(), dim);
        linear(s, "condition_embedder.time_embedder.linear_2", dim, dim);
        linear(s, "condition_embedder.time_proj", dim, 6 * dim);
        linear(s, "condition_embedder.text_embedder.linear_1", c.textDim(), dim);
        linear(s, "condition_embedder.text_embedder.linear_2", dim, dim);
        if (c.imageToVideo()) {
            String p = "condition_embedder.image_embedder.";
            affineNorm(s, p + "norm1", c.imageDim());
            linear(s, p + "ff.net.0.proj", c.imageDim(), c.imageDim());
            linear(s, p + "ff.net.2", c.imageDim(), dim);
            affineNorm(s, p + "norm2", dim);
        }
        for (int i = 0; i < c.layers(); i++) {
            String b = "blocks." + i + ".";
            s.put(b + "scale_shift_table", new long[]{1, 6, dim});
            for (String attn : new String[]{"attn1", "attn2"}) {
                for (String proj : new String[]{"to_q", "to_k", "to_v", "to_out.0"}) linear(s, b + attn + "." + proj, dim, dim);
                s.put(b + attn + ".norm_q.weight", new long[]{dim});
                s.put(b + attn + ".norm_k.weight", new long[]{dim});
            }
            if (c.imageToVideo()) {
                linear(s, b + "attn2.add_k_proj", c.addedKvDim(), dim);
                linear(s, b + "attn2.add_v_proj", c.addedKvDim(), dim);
                s.put(b + "attn2.norm_added_k.weight", new long[]{dim});
            }
            if (c.crossAttnNorm()) affineNorm(s, b + "norm2", dim);
            linear(s, b + "ffn.net.0.proj", dim, c.ffnDim());
            linear(s, b + "ffn.net.2", c.ffnDim(), dim);
        }
        s.put("scale_shift_table", new long[]{1, 2, dim});
        linear(s, "proj_out", dim, (long) c.outChannels() * c.patch() * c.patch());
        return s;
    }

    private static void linear(Map<String, long[]> s, String key, long in, long out) {
        s.put(key + ".weight", new long[]{out, in});
        s.put(key + ".bias", new long[]{out});
    }

    private static void affineNorm(Map<String, long[]> s, String key, long dim) {
        s.put(key + ".weight", new long[]{dim});
        s.put(key + ".bias", new long[]{dim});
    }

    /**
     * The Denoiser call: the caption [B, L, text_dim]; a caption mask zeroes the rows it marks as padding (what
     * WanPipeline does with umT5's output). The I2V layout takes its CLIP image states from
     * {@link Conditioning#imageStates()}.
     */
    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        Tensor text = cond.caption();
        if (text != null && cond.captionMask() != null) text = zeroMasked(text, cond.captionMask());
        return forward(x, timesteps, text, cond.imageStates());
    }

    /**
     * {@code model(hidden_states, timestep, encoder_hidden_states, encoder_hidden_states_image).sample}.
     *
     * @param x     [B, in_channels, F, H, W], H and W multiples of the patch size
     * @param text  [B, L, text_dim] caption states (zero rows past each prompt, as the pipeline pads them)
     * @param image [B, N, image_dim] CLIP image states for the I2V layout, else null
     * @return [B, out_channels, F, H, W]
     */
    public Tensor forward(Tensor x, Tensor timesteps, Tensor text, Tensor image) {
        Tensor xf = checkLatent(x);
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch();
        WanRope.Grid positions = rope.grid(grid.frames(), grid.gh(), grid.gw());
        Tensor tokens = patchEmbed.forward(xf);

        Tensor temb = timeEmbedder.embed(Inputs.timesteps(timesteps, batch));
        Tensor timestepProj = timeProj.forward(Rows.silu(temb));
        Tensor context = context(text, image, batch);
        for (WanBlock block : blocks) block.forward(tokens, batch, timestepProj, positions, context);

        Tensor h = Modulation.tablePlus(outputTable, temb).normalizeAndModulate(normOut, tokens, 0, 1, null);
        return PatchEmbed.unpatchify(projOut.forward(h), grid, config.patch(), config.outChannels(), true);
    }

    /**
     * The projected caption, with the projected image tokens in front for I2V: [B, (N +) L, dim]; the same tensor as
     * last time while text and image are ({@link CaptionMemo}: the cross-attentions then reuse their keys and values).
     */
    private Tensor context(Tensor text, Tensor image, int batch) {
        List<Linear> embedders = new ArrayList<>(textEmbedder.linears());
        if (imageEmbedder != null) embedders.addAll(imageEmbedder.ff().linears());
        return contextMemo.embed(embedders, batch, () -> projectContext(text, image, batch), text, image);
    }

    private Tensor projectContext(Tensor text, Tensor image, int batch) {
        Tensor caption = textEmbedder.forward(Inputs.caption(text, batch, config.textDim()));
        if (imageEmbedder == null) {
            if (image != null) throw new IllegalArgumentException("this Wan transformer (T2V) takes no image states");
            return caption;
        }
        if (image == null) throw new IllegalArgumentException("the Wan I2V transformer needs the CLIP image states");
        if (image.rank() != 3 || image.dim(0) != batch || image.dim(2) != config.imageDim()) {
            throw new IllegalArgumentException("the image states must be [" + batch + ", N, " + config.imageDim() + "], got " + image);
        }
        Tensor img = imageEmbedder.forward(image.toF32());
        return concatTokens(img, caption);
    }

    /** [B, La, C] ++ [B, Lb, C] along the tokens. */
    private static Tensor concatTokens(Tensor a, Tensor b) {
        int batch = a.size(0), la = a.size(1), lb = b.size(1), width = a.size(2);
        Tensor out = Tensor.zeros(batch, la + lb, width);
        long row = (long) width * Float.BYTES;
        for (int s = 0; s < batch; s++) {
            long at = (long) s * (la + lb) * row;
            MemorySegment.copy(a.data(), s * la * row, out.data(), at, la * row);
            MemorySegment.copy(b.data(), s * lb * row, out.data(), at + la * row, lb * row);
        }
        return out;
    }

    /** A copy of the caption [B, L, D] with the rows whose mask entry is 0 set to zero. */
    private static Tensor zeroMasked(Tensor caption, Tensor mask) {
        Tensor c = caption.toF32().copy();
        int batch = c.size(0), length = c.size(1), width = c.size(2);
        if (mask.numel() != (long) batch * length) {
            throw new IllegalArgumentException("caption mask " + mask + " does not fit the caption " + caption);
        }
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < length; j++) {
                if (mask.getFloat((long) b * length + j) != 0) continue;
                long at = ((long) b * length + j) * width;
                for (int d = 0; d < width; d++) c.data().setAtIndex(F32_LE, at + d, 0f);
            }
        }
        return c;
    }
}
