package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.StrictJson;

import java.nio.file.Path;

/**
 * The constructor arguments of transformers' T5 encoder, read from its {@code config.json}; absent keys take
 * transformers' T5Config defaults. The feed-forward activation is derived from {@code feed_forward_proj} as
 * transformers derives it ("gated-gelu" → gated, gelu_new = tanh approximation; "relu" → ungated ReLU).
 *
 * @param innerDim  heads × d_kv, the width of q/k/v (equals d_model in the released models, not required)
 * @param activation one of relu, gelu_new, gelu (erf), silu
 * @param biasPerLayer every block has its own relative-attention bias table (umT5, {@code model_type} "umt5");
 *                     T5 has one, in block 0
 */
public record T5Config(int vocabSize, int dModel, int dKv, int dFf, int numLayers, int numHeads,
                       int relativeAttentionNumBuckets, int relativeAttentionMaxDistance, float layerNormEpsilon,
                       String activation, boolean gatedActivation, boolean biasPerLayer) {

    public int innerDim() {
        return numHeads * dKv;
    }

    public T5Config {
        if (vocabSize <= 0 || dModel <= 0 || dKv <= 0 || dFf <= 0 || numLayers <= 0 || numHeads <= 0) {
            throw new IllegalArgumentException("T5 sizes must be positive: vocab " + vocabSize + ", d_model " + dModel
                    + ", d_kv " + dKv + ", d_ff " + dFf + ", layers " + numLayers + ", heads " + numHeads);
        }
        if (relativeAttentionNumBuckets < 2 || relativeAttentionMaxDistance < 1) {
            throw new IllegalArgumentException("relative attention needs at least 2 buckets and a positive max distance");
        }
        if (!java.util.List.of("relu", "gelu_new", "gelu", "silu").contains(activation)) {
            throw new IllegalArgumentException("T5 activation '" + activation + "' is not supported (relu, gelu_new, gelu, silu)");
        }
    }

    /** Reads {@code config.json}. */
    public static T5Config load(Path file) {
        return StrictJson.readConfig(file, "T5 config", T5Config::fromJson);
    }

    static T5Config fromJson(JsonNode c) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException("not a JSON object");
        String proj = c.path("feed_forward_proj").asText("relu");
        String[] parts = proj.split("-");
        boolean gated = parts.length == 2 && parts[0].equals("gated");
        if (parts.length > 2 || (parts.length == 2 && !gated)) {
            throw new IllegalArgumentException("feed_forward_proj '" + proj + "' is neither ACT nor gated-ACT");
        }
        // transformers keeps "gated-gelu" meaning the tanh approximation for backward compatibility
        String act = proj.equals("gated-gelu") ? "gelu_new" : parts[parts.length - 1];
        if (act.equals("gelu_pytorch_tanh")) act = "gelu_new";
        return new T5Config(
                c.path("vocab_size").asInt(32128),
                c.path("d_model").asInt(512),
                c.path("d_kv").asInt(64),
                c.path("d_ff").asInt(2048),
                c.path("num_layers").asInt(6),
                c.path("num_heads").asInt(8),
                c.path("relative_attention_num_buckets").asInt(32),
                c.path("relative_attention_max_distance").asInt(128),
                (float) c.path("layer_norm_epsilon").asDouble(1e-6),
                act, gated, c.path("model_type").asText("t5").equals("umt5"));
    }
}
