package dev.viditq.nn.text;

import dev.viditq.core.io.TensorFile;

import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The original Wan 2.1 repository's umT5 encoder checkpoint ({@code models_t5_umt5-xxl-enc-bf16.pth}, its own
 * {@code T5Encoder} module: token_embedding, blocks.N.{norm1, attn, norm2, ffn, pos_embedding}, norm) under
 * transformers' UMT5EncoderModel names, and its config read off the tensor shapes (the file comes without one).
 * The arithmetic is the same: a relative-attention bias per block (shared_pos False), unscaled attention, RMS
 * norms, and a feed-forward {@code fc2(fc1(x) · gelu_tanh(gate(x)))} = {@code wo(wi_1(x) · gelu_new(wi_0(x)))}.
 */
public final class WanT5Keys {
    /** Wan's T5RelativeEmbedding max_dist: a constant of the module, not stored. */
    static final int MAX_DISTANCE = 128;
    /** Wan's T5LayerNorm eps. */
    static final float EPS = 1e-6f;

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.(.+)");
    private static final Map<String, String> IN_BLOCK = Map.of(
            "norm1.weight", "layer.0.layer_norm.weight",
            "attn.q.weight", "layer.0.SelfAttention.q.weight",
            "attn.k.weight", "layer.0.SelfAttention.k.weight",
            "attn.v.weight", "layer.0.SelfAttention.v.weight",
            "attn.o.weight", "layer.0.SelfAttention.o.weight",
            "pos_embedding.embedding.weight", "layer.0.SelfAttention.relative_attention_bias.weight",
            "norm2.weight", "layer.1.layer_norm.weight",
            "ffn.gate.0.weight", "layer.1.DenseReluDense.wi_0.weight",
            "ffn.fc1.weight", "layer.1.DenseReluDense.wi_1.weight",
            "ffn.fc2.weight", "layer.1.DenseReluDense.wo.weight");

    private WanT5Keys() {}

    /** True for a checkpoint in Wan's own T5 naming. */
    public static boolean isOriginal(Set<String> names) {
        return names.contains("token_embedding.weight") && names.contains("blocks.0.attn.q.weight");
    }

    /** The transformers name of an original key; a key of neither layout is kept (and then refused as unexpected). */
    public static String toTransformers(String key) {
        if (key.equals("token_embedding.weight")) return "shared.weight";
        if (key.equals("norm.weight")) return "encoder.final_layer_norm.weight";
        Matcher m = BLOCK.matcher(key);
        if (m.matches() && IN_BLOCK.containsKey(m.group(2))) return "encoder.block." + m.group(1) + "." + IN_BLOCK.get(m.group(2));
        return key;
    }

    /** The encoder's sizes from its tensors (umT5-XXL: vocab 256384, d_model 4096, 24 blocks of 64 heads, d_ff 10240). */
    public static T5Config config(TensorFile original) {
        long[] embedding = original.get("token_embedding.weight").shape();
        long[] q = original.get("blocks.0.attn.q.weight").shape();
        long[] bias = original.get("blocks.0.pos_embedding.embedding.weight").shape();
        long[] ffn = original.get("blocks.0.ffn.fc1.weight").shape();
        int layers = 0;
        while (original.contains("blocks." + layers + ".attn.q.weight")) layers++;
        int heads = (int) bias[1], inner = (int) q[0];
        if (inner % heads != 0) {
            throw new IllegalArgumentException(original.path() + ": attn.q has " + inner + " outputs, not a multiple of the "
                    + heads + " heads of pos_embedding");
        }
        return new T5Config((int) embedding[0], (int) embedding[1], inner / heads, (int) ffn[0], layers, heads, (int) bias[0],
                MAX_DISTANCE, EPS, "gelu_new", true, true);
    }
}
