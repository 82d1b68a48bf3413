package dev.viditq.nn.models.wan;

import dev.viditq.nn.models.ModelConfig;

import java.util.Arrays;

/**
 * The sizes of a Wan 2.1 transformer, from a diffusers {@code WanTransformer3DModel} config.json or from the original
 * repository's {@code WanModel} config.json (dim, num_heads, in_dim, out_dim, model_type, ...). Absent keys take the
 * constructor defaults of each; an unsupported option is an error naming the key.
 *
 * @param dim          inner width = heads · headDim
 * @param imageDim     width of the CLIP image states the I2V image embedder takes; 0 for T2V
 * @param addedKvDim   input width of the I2V added key/value projections (= dim in the released models); 0 for T2V
 * @param ropeMaxSeqLen positions per axis the RoPE tables cover
 */
public record WanConfig(int dim, int heads, int inChannels, int outChannels, int patch, int textDim, int freqDim,
                        int ffnDim, int layers, boolean crossAttnNorm, float eps, int imageDim, int addedKvDim,
                        int ropeMaxSeqLen) {
    public WanConfig {
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("Wan width " + dim + " must be a positive multiple of the " + heads + " heads");
        }
        if ((imageDim > 0) != (addedKvDim > 0)) {
            throw new IllegalArgumentException("image_dim and added_kv_proj_dim must be given together (the I2V layout)");
        }
    }

    public int headDim() {
        return dim / heads;
    }

    public boolean imageToVideo() {
        return imageDim > 0;
    }

    /** A diffusers {@code WanTransformer3DModel} config (defaults of its constructor). */
    public static WanConfig diffusers(ModelConfig c) {
        int heads = c.getInt("num_attention_heads", 40), headDim = c.getInt("attention_head_dim", 128);
        String qkNorm = c.getString("qk_norm", "rms_norm_across_heads");
        if (!qkNorm.equals("rms_norm_across_heads")) {
            throw c.error("qk_norm \"" + qkNorm + "\" is not supported (Wan 2.1 uses \"rms_norm_across_heads\")");
        }
        if (c.has("pos_embed_seq_len")) throw c.error("pos_embed_seq_len (the FLF2V image position embedding) is not supported");
        int in = c.getInt("in_channels", 16);
        return new WanConfig(heads * headDim, heads, in, c.getInt("out_channels", in), patch(c), c.getInt("text_dim", 4096),
                c.getInt("freq_dim", 256), c.getInt("ffn_dim", 13824), c.getInt("num_layers", 40),
                c.getBool("cross_attn_norm", true), (float) c.getDouble("eps", 1e-6), c.getInt("image_dim", 0),
                c.getInt("added_kv_proj_dim", 0), c.getInt("rope_max_seq_len", 1024));
    }

    /**
     * The original repository's {@code WanModel} config (Wan-AI/Wan2.1-*: dim, num_heads, in_dim, out_dim, ffn_dim,
     * freq_dim, text_dim, num_layers, eps, model_type "t2v" or "i2v"). Its I2V image embedder takes CLIP ViT-H states
     * (1280 wide) and its added K/V projections the inner width; its RoPE tables cover 1024 positions.
     */
    public static WanConfig original(ModelConfig c) {
        String type = c.getString("model_type", "t2v");
        if (!type.equals("t2v") && !type.equals("i2v")) {
            throw c.error("model_type \"" + type + "\" is not supported (t2v, i2v)");
        }
        if (!c.getBool("qk_norm", true)) throw c.error("qk_norm false is not supported (every Wan 2.1 model normalises q and k)");
        int dim = c.getInt("dim", 2048), in = c.getInt("in_dim", 16);
        boolean i2v = type.equals("i2v");
        return new WanConfig(dim, c.getInt("num_heads", 16), in, c.getInt("out_dim", 16), patch(c), c.getInt("text_dim", 4096),
                c.getInt("freq_dim", 256), c.getInt("ffn_dim", 8192), c.getInt("num_layers", 32),
                c.getBool("cross_attn_norm", true), (float) c.getDouble("eps", 1e-6), i2v ? 1280 : 0, i2v ? dim : 0, 1024);
    }

    /** patch_size [1, p, p]: temporal patches and non-square ones are not supported. */
    private static int patch(ModelConfig c) {
        int[] p = c.has("patch_size") ? c.getIntList("patch_size") : new int[]{1, 2, 2};
        if (p.length != 3 || p[0] != 1 || p[1] != p[2] || p[1] < 1) {
            throw c.error("patch_size must be [1, p, p], is " + Arrays.toString(p));
        }
        return p[1];
    }
}
