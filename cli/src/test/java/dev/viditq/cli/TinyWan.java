package dev.viditq.cli;

import dev.viditq.core.testing.TestTokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.WanTransformer;
import dev.viditq.nn.models.wan.WanConfig;
import dev.viditq.nn.vae.WanVae;
import dev.viditq.nn.vae.WanVaeConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tiny Wan 2.1 model folders with random weights, laid out as Wan-AI/Wan2.1-T2V-*-Diffusers is: transformer/
 * (WanTransformer3DModel, width 32, 2 blocks, 16 latent channels), vae/ (AutoencoderKLWan, base width 6, the real
 * 8× spatial and 4× temporal factors), text_encoder/ (umT5, d_model 32, a relative-attention bias per layer),
 * tokenizer/ (a word-level tokenizer.json), scheduler/ (UniPC with flow sigmas, shift 3). Frames of 1 + 4k at
 * multiples of 16 pixels fit; 32×32 × 5 frames is 2 latent frames of 2×2 tokens.
 */
final class TinyWan {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int TEXT_WIDTH = 32;

    private TinyWan() {}

    /** The text-to-video pipeline folder. */
    static Path diffusers(Path root) throws IOException {
        return folder(root, false);
    }

    /**
     * The image-to-video layout: the transformer takes 16 + 20 channels (noise, then the first frame's mask and
     * latents) and CLIP image states (image_dim 24) through its added key/value branch.
     */
    static Path imageToVideo(Path root) throws IOException {
        return folder(root, true);
    }

    /**
     * The same model (the same random values) in the original Wan repository's layout: the transformer at the top
     * (WanModel config.json, original key names), the umT5 encoder as models_t5_umt5-xxl-enc-bf16 in Wan's own T5
     * names (converted to .safetensors), the tokenizer in google/umt5-xxl/. The VAE stays in vae/ with its config:
     * the released Wan2.1_VAE.pth has no config and the real sizes, too large for a test.
     */
    static Path original(Path root) throws IOException {
        Files.createDirectories(root);
        Files.writeString(root.resolve("config.json"), """
                {"_class_name": "WanModel", "_diffusers_version": "0.30.0", "dim": 32, "eps": 1e-06, "ffn_dim": 64,
                 "freq_dim": 32, "in_dim": 16, "model_type": "t2v", "num_heads": 2, "num_layers": 2, "out_dim": 16,
                 "text_dim": 32, "text_len": 512}
                """);
        Map<String, Tensor> transformer = new LinkedHashMap<>();
        random(transformerShapes(false), 1).forEach((name, t) -> transformer.put(toOriginal(name), t));
        SafetensorsWriter.write(root.resolve("diffusion_pytorch_model.safetensors"), transformer);
        Map<String, Tensor> t5 = new LinkedHashMap<>();
        random(t5Shapes(), 3).forEach((name, t) -> t5.put(toWanT5(name), t));
        SafetensorsWriter.write(root.resolve("models_t5_umt5-xxl-enc-bf16.safetensors"), t5);
        Files.writeString(Files.createDirectories(root.resolve("google/umt5-xxl")).resolve("tokenizer.json"), TOKENIZER);
        vae(Files.createDirectories(root.resolve("vae")));
        return root;
    }

    private static Path folder(Path root, boolean i2v) throws IOException {
        transformer(Files.createDirectories(root.resolve("transformer")), i2v);
        vae(Files.createDirectories(root.resolve("vae")));
        textEncoder(Files.createDirectories(root.resolve("text_encoder")));
        Files.writeString(Files.createDirectories(root.resolve("tokenizer")).resolve("tokenizer.json"), TOKENIZER);
        Files.writeString(Files.createDirectories(root.resolve("scheduler")).resolve("scheduler_config.json"), SCHEDULER);
        return root;
    }

    private static void transformer(Path dir, boolean i2v) throws IOException {
        ObjectNode c = JSON.createObjectNode();
        c.put("_class_name", "WanTransformer3DModel");
        c.putArray("patch_size").add(1).add(2).add(2);
        c.put("num_attention_heads", 2);
        c.put("attention_head_dim", 16);
        c.put("in_channels", i2v ? 36 : 16);
        c.put("out_channels", 16);
        c.put("text_dim", TEXT_WIDTH);
        c.put("freq_dim", 32);
        c.put("ffn_dim", 64);
        c.put("num_layers", 2);
        c.put("cross_attn_norm", true);
        c.put("qk_norm", "rms_norm_across_heads");
        c.put("eps", 1e-6);
        if (i2v) {
            c.put("image_dim", 24);
            c.put("added_kv_proj_dim", 32);
        }
        Files.writeString(dir.resolve("config.json"), c.toPrettyString());
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), random(transformerShapes(i2v), 1));
    }

    private static Map<String, long[]> transformerShapes(boolean i2v) {
        return WanTransformer.checkpointShapes(new WanConfig(32, 2, i2v ? 36 : 16, 16, 2, TEXT_WIDTH, 32, 64, 2, true, 1e-6f,
                i2v ? 24 : 0, i2v ? 32 : 0, 1024));
    }

    private static void vae(Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), """
                {"_class_name": "AutoencoderKLWan", "attn_scales": [], "base_dim": 6, "dim_mult": [1, 2, 4, 4],
                 "num_res_blocks": 1, "temperal_downsample": [false, true, true], "z_dim": 16, "dropout": 0.0,
                 "latents_mean": [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715,
                                  0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
                 "latents_std": [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652,
                                 1.5579, 1.6382, 1.1253, 2.8251, 1.916]}
                """);
        WanVaeConfig c = WanVaeConfig.load(dir.resolve("config.json"));
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), random(WanVae.checkpointShapes(c), 2));
    }

    /** transformers' UMT5EncoderModel as save_pretrained writes it (shared.weight, a bias table in every block). */
    private static final int T5_HEADS = 4, T5_KV = 8, T5_FF = 64, T5_LAYERS = 2, T5_BUCKETS = 32;

    private static void textEncoder(Path dir) throws IOException {
        // max distance 128: the constant of Wan's own T5 module, so that both layouts compute the same
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["UMT5EncoderModel"], "model_type": "umt5", "d_model": %d, "d_kv": %d, "d_ff": %d,
                 "num_heads": %d, "num_layers": %d, "vocab_size": %d, "relative_attention_num_buckets": %d,
                 "relative_attention_max_distance": 128, "feed_forward_proj": "gated-gelu", "layer_norm_epsilon": 1e-6,
                 "is_gated_act": true, "dense_act_fn": "gelu_new", "tie_word_embeddings": true}
                """.formatted(TEXT_WIDTH, T5_KV, T5_FF, T5_HEADS, T5_LAYERS, VOCAB, T5_BUCKETS));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), random(t5Shapes(), 3));
    }

    private static Map<String, long[]> t5Shapes() {
        int d = TEXT_WIDTH, heads = T5_HEADS, dKv = T5_KV, ff = T5_FF, layers = T5_LAYERS, buckets = T5_BUCKETS;
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("shared.weight", new long[]{VOCAB, d});
        for (int i = 0; i < layers; i++) {
            String a = "encoder.block." + i + ".layer.0.", f = "encoder.block." + i + ".layer.1.";
            for (String p : new String[]{"q", "k", "v"}) s.put(a + "SelfAttention." + p + ".weight", new long[]{heads * dKv, d});
            s.put(a + "SelfAttention.o.weight", new long[]{d, heads * dKv});
            s.put(a + "SelfAttention.relative_attention_bias.weight", new long[]{buckets, heads});
            s.put(a + "layer_norm.weight", new long[]{d});
            s.put(f + "DenseReluDense.wi_0.weight", new long[]{ff, d});
            s.put(f + "DenseReluDense.wi_1.weight", new long[]{ff, d});
            s.put(f + "DenseReluDense.wo.weight", new long[]{d, ff});
            s.put(f + "layer_norm.weight", new long[]{d});
        }
        s.put("encoder.final_layer_norm.weight", new long[]{d});
        return s;
    }

    /** diffusers → original Wan transformer names (the inverse of the conversion script's renaming, T2V keys). */
    private static final String[][] ORIGINAL_TOP = {
            {"condition_embedder.time_embedder.linear_1", "time_embedding.0"}, {"condition_embedder.time_embedder.linear_2", "time_embedding.2"},
            {"condition_embedder.time_proj", "time_projection.1"}, {"condition_embedder.text_embedder.linear_1", "text_embedding.0"},
            {"condition_embedder.text_embedder.linear_2", "text_embedding.2"}, {"scale_shift_table", "head.modulation"},
            {"proj_out", "head.head"}, {"patch_embedding", "patch_embedding"}};
    private static final String[][] ORIGINAL_BLOCK = {
            {"attn1.to_q", "self_attn.q"}, {"attn1.to_k", "self_attn.k"}, {"attn1.to_v", "self_attn.v"}, {"attn1.to_out.0", "self_attn.o"},
            {"attn1.norm_q", "self_attn.norm_q"}, {"attn1.norm_k", "self_attn.norm_k"},
            {"attn2.to_q", "cross_attn.q"}, {"attn2.to_k", "cross_attn.k"}, {"attn2.to_v", "cross_attn.v"}, {"attn2.to_out.0", "cross_attn.o"},
            {"attn2.norm_q", "cross_attn.norm_q"}, {"attn2.norm_k", "cross_attn.norm_k"}, {"norm2", "norm3"},
            {"ffn.net.0.proj", "ffn.0"}, {"ffn.net.2", "ffn.2"}, {"scale_shift_table", "modulation"}};

    private static String toOriginal(String key) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(blocks\\.\\d+)\\.(.+)").matcher(key);
        boolean inBlock = m.matches();
        String rest = inBlock ? m.group(2) : key;
        for (String[] r : inBlock ? ORIGINAL_BLOCK : ORIGINAL_TOP) {
            if (rest.equals(r[0]) || rest.startsWith(r[0] + ".")) return (inBlock ? m.group(1) + "." : "") + r[1] + rest.substring(r[0].length());
        }
        throw new IllegalStateException("no original name for " + key);
    }

    /** transformers → Wan's own T5 names. */
    private static String toWanT5(String key) {
        if (key.equals("shared.weight")) return "token_embedding.weight";
        if (key.equals("encoder.final_layer_norm.weight")) return "norm.weight";
        String[][] rules = {{"layer.0.layer_norm", "norm1"}, {"layer.0.SelfAttention.relative_attention_bias", "pos_embedding.embedding"},
                {"layer.0.SelfAttention.", "attn."}, {"layer.1.layer_norm", "norm2"}, {"layer.1.DenseReluDense.wi_0", "ffn.gate.0"},
                {"layer.1.DenseReluDense.wi_1", "ffn.fc1"}, {"layer.1.DenseReluDense.wo", "ffn.fc2"}};
        String k = key.replaceFirst("^encoder\\.block\\.", "blocks.");
        for (String[] r : rules) {
            int at = k.indexOf(r[0]);
            if (at >= 0) return k.substring(0, at) + r[1] + k.substring(at + r[0].length());
        }
        throw new IllegalStateException("no Wan T5 name for " + key);
    }

    /**
     * Random F32 tensors: matrices and kernels uniform at 1/√fan_in, norm scales around 1, embeddings at 1, the rest
     * (biases, modulation tables, bias tables) small; seeded, so a folder is the same every time.
     */
    static Map<String, Tensor> random(Map<String, long[]> shapes, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> {
            Tensor t = Tensor.zeros(shape);
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
            boolean norm = name.contains("norm") || name.endsWith("gamma");
            boolean matrix = name.endsWith(".weight") && shape.length >= 2 && !name.equals("shared.weight")
                    && !name.endsWith("relative_attention_bias.weight");
            double mean = norm ? 1 : 0;
            double std = norm ? 0.1 : name.equals("shared.weight") ? 1 : matrix ? 1 / Math.sqrt(fanIn) : 0.05;
            for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (mean + (rng.nextDouble() * 2 - 1) * std * Math.sqrt(3)));
            tensors.put(name, t);
        });
        return tensors;
    }

    static final int VOCAB = 24;

    private static final String TOKENIZER = TestTokenizers.wordLevel("a", "cat", "walks", "on", "the", "grass", "red",
            "fox", "in", "snow", "waves", "at", "dusk", "blurry");

    /** Wan 2.1's scheduler_config.json (diffusers UniPCMultistepScheduler, flow prediction). */
    private static final String SCHEDULER = """
            {"_class_name": "UniPCMultistepScheduler", "beta_end": 0.02, "beta_schedule": "linear", "beta_start": 0.0001,
             "disable_corrector": [], "dynamic_thresholding_ratio": 0.995, "final_sigmas_type": "zero", "flow_shift": 3.0,
             "lower_order_final": true, "num_train_timesteps": 1000, "predict_x0": true, "prediction_type": "flow_prediction",
             "rescale_betas_zero_snr": false, "sample_max_value": 1.0, "solver_order": 2, "solver_p": null,
             "solver_type": "bh2", "steps_offset": 0, "thresholding": false, "timestep_spacing": "linspace",
             "trained_betas": null, "use_beta_sigmas": false, "use_dynamic_shifting": false,
             "use_exponential_sigmas": false, "use_flow_sigmas": true, "use_karras_sigmas": false}
            """;
}
