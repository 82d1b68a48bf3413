package dev.viditq.bench.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.nn.layers.SinCos;
import dev.viditq.nn.models.ModelConfig;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.checkpoint.QuantizedCheckpointReader;
import dev.viditq.quant.runtime.QuantizedModel;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a denoiser as an ONNX graph (opset {@value OnnxGraph#OPSET}) that ONNX Runtime runs: the original layouts
 * of PixArt-α/Σ (with or without micro-conditions), Open-Sora v1.0 STDiT and DiT. The graph is built for one latent
 * size (positional embeddings are constants); the batch is symbolic. Weights become FP32 initializers in
 * {@code <out>.data}. A quantized checkpoint of the quant module is exported with integer operators
 * ({@link QuantizedLinearEmitter}: DynamicQuantizeMatMul for 8-bit, MatMulNBits for 4-bit weights, and a layer's
 * low-rank branch as a float MatMul pair added to their output).
 *
 * <p>Graph inputs, all FP32 unless noted: {@code x} [B, C, H, W] (STDiT: [B, C, T, H, W]); {@code timestep} [B];
 * text models {@code caption} [B, L, Dt] and {@code caption_mask} [B, L] (1 = valid token; masked tokens get an
 * additive -1e9, which equals the official code's removal of them whenever a caption has a valid token); PixArt with
 * micro-conditions {@code img_hw} [B, 2] and {@code aspect_ratio} [B, 1]; DiT {@code class_labels} [B] INT64.
 * Output {@code out} [B, 2C, ...] as the model's forward returns it.
 */
public final class OnnxExport {
    /** Changes whenever the exported graph changes, so cached exports of an older form are redone. */
    public static final String VERSION = "3 (opset 20; Kronecker-factored Hadamard for quantized layers; low-rank branches as float MatMul pairs)";

    /** The families whose forward pass {@link Builder} writes as nodes. */
    static final Set<ModelFamily> FAMILIES = EnumSet.of(ModelFamily.PIXART, ModelFamily.STDIT, ModelFamily.DIT);

    /** What was written. */
    public record Summary(Path model, Path data, String family, long initializerBytes, long[] latentShape, String precision) {}

    private OnnxExport() {}

    /** Exports for the config's own latent size ({@code input_size}). */
    public static Summary export(Path modelDir, Path out) {
        return export(modelDir, out, 0, 0, 0);
    }

    /**
     * @param height latent height (0: the config's), @param width latent width (0: the config's),
     * @param frames video frames (0: the config's; ignored for image models)
     */
    public static Summary export(Path modelDir, Path out, int height, int width, int frames) {
        ModelInfo info = ModelFacts.read(modelDir).info(); // validates the checkpoint, resolves config defaults
        ModelConfig cfg = ModelConfig.read(modelDir.resolve("config.json"));
        int h = height > 0 ? height : info.sampleSize(), w = width > 0 ? width : info.sampleSize();
        int t = info.video() ? (frames > 0 ? frames : info.frames()) : 1;
        if (h % info.patchSize() != 0 || w % info.patchSize() != 0) {
            throw new IllegalArgumentException("latent " + h + "×" + w + " is not a multiple of the patch size " + info.patchSize());
        }
        if (!FAMILIES.contains(info.family())) {
            throw new IllegalArgumentException("export onnx supports the original layouts of PixArt, Open-Sora STDiT (v1.0) and "
                    + "DiT; this model is " + info.family().description());
        }
        try (TensorFile file = Checkpoints.open(Checkpoints.findIn(modelDir));
             OnnxGraph g = new OnnxGraph(out, info.family().id())) {
            boolean quantized = file.metadata().containsKey(QuantizedCheckpoint.METADATA_KEY);
            QuantizedModel weights = quantized ? QuantizedCheckpointReader.open(file).read() : null;
            LayerOps.LinearEmitter linears = quantized ? new QuantizedLinearEmitter(weights) : LayerOps.LinearEmitter.FLOAT;
            Builder b = new Builder(new LayerOps(g, file, linears), info, cfg, h, w, t);
            b.build();
            g.save("viditq export onnx");
            long[] latent = info.video() ? new long[]{info.inChannels(), t, h, w} : new long[]{info.inChannels(), h, w};
            return new Summary(out, out.resolveSibling(out.getFileName() + ".data"), info.family().id(), g.externalBytes(), latent,
                    quantized ? "quantized (" + weights.plan().method() + ")" : "float");
        }
    }

    /** One family's forward pass as nodes, following the model classes of nn/models step by step. */
    private static final class Builder {
        private final LayerOps ops;
        private final OnnxGraph g;
        private final ModelInfo info;
        private final ModelConfig cfg;
        private final int hidden, heads, headDim, p, gh, gw, frames, perFrame;
        private final boolean dit, video;

        Builder(LayerOps ops, ModelInfo info, ModelConfig cfg, int height, int width, int frames) {
            this.ops = ops;
            this.g = ops.g;
            this.info = info;
            this.cfg = cfg;
            this.hidden = info.hidden();
            this.heads = info.heads();
            this.headDim = hidden / heads;
            this.p = info.patchSize();
            this.gh = height / p;
            this.gw = width / p;
            this.frames = frames;
            this.perFrame = gh * gw;
            this.dit = info.family() == ModelFamily.DIT;
            this.video = info.video();
        }

        void build() {
            String x = video ? g.input("x", DataType.FLOAT, "batch", (long) info.inChannels(), (long) frames, (long) gh * p, (long) gw * p)
                    : g.input("x", DataType.FLOAT, "batch", (long) info.inChannels(), (long) gh * p, (long) gw * p);
            String t = g.input("timestep", DataType.FLOAT, "batch");
            String tokens = patchEmbed(x);
            String te = ops.timestepEmbedder(t, "t_embedder.mlp");
            String out = dit ? ditBody(tokens, te) : textBody(tokens, te);
            g.identity(unpatchify(out), "out");
            if (video) g.output("out", DataType.FLOAT, "batch", (long) info.outChannels(), (long) frames, (long) gh * p, (long) gw * p);
            else g.output("out", DataType.FLOAT, "batch", (long) info.outChannels(), (long) gh * p, (long) gw * p);
        }

        /** Conv with stride p, flattened to tokens [B, T·S, H], plus the 2D sincos table on every frame. */
        private String patchEmbed(String x) {
            String conv = g.op("Conv", List.of(x, ops.weight("x_embedder.proj.weight"), ops.weight("x_embedder.proj.bias")),
                    video ? Map.of("strides", new long[]{1, p, p}) : Map.of("strides", new long[]{p, p}));
            String tokens = ops.transpose(ops.reshape(conv, 0, hidden, -1), 0, 2, 1);
            float[] pos = positions();
            String table = g.floats("pos_embed_table", pos, 1, 1, perFrame, hidden);
            String perFrameView = ops.reshape(tokens, 0, frames, perFrame, hidden);
            return ops.reshape(ops.add(perFrameView, table), 0, (long) frames * perFrame, hidden);
        }

        private float[] positions() {
            return switch (info.family()) {
                case DIT -> SinCos.grid2d(hidden, gh, gw, Double.NaN, 1.0);
                case STDIT -> SinCos.grid2d(hidden, gh, gw, Double.NaN, cfg.getDouble("space_scale", 1.0));
                case PIXART -> { // as PixArt.java reads base_size and lewei_scale / pe_interpolation
                    double baseSize = cfg.getDouble("base_size", (double) (info.sampleSize() / p));
                    double scale = cfg.has("pe_interpolation") ? cfg.getDouble("pe_interpolation") : cfg.getDouble("lewei_scale", 1.0);
                    yield SinCos.grid2d(hidden, gh, gw, baseSize, scale);
                }
                default -> throw new IllegalStateException("no graph for " + info.family().description());
            };
        }

        // ---- DiT: adaLN-Zero, class embedding

        private String ditBody(String x, String te) {
            String labels = g.input("class_labels", DataType.INT64, "batch");
            String c = ops.add(te, g.op("Gather", List.of(ops.weight("y_embedder.embedding_table.weight"), labels), Map.of("axis", 0L)));
            String siluC = ops.silu(c);
            for (int i = 0; i < info.depth(); i++) {
                String pre = "blocks." + i;
                String[] mod = ops.split(ops.reshape(ops.linear(siluC, pre + ".adaLN_modulation.1"), 0, 6, hidden), 1, 6);
                x = selfAttentionBranch(x, mod, pre + ".attn", perFrame);
                x = mlpBranch(x, mod, pre);
            }
            String[] fin = ops.split(ops.reshape(ops.linear(siluC, "final_layer.adaLN_modulation.1"), 0, 2, hidden), 1, 2);
            return finalLayer(x, fin[0], fin[1]);
        }

        // ---- PixArt / STDiT: adaLN-single, cross-attention to the caption

        private String textBody(String x, String te) {
            if (info.microConditions()) te = ops.add(te, microConditions());
            String t6 = ops.reshape(ops.linear(ops.silu(te), "t_block.1"), 0, 6, hidden);
            String caption = g.input("caption", DataType.FLOAT, "batch", (long) info.captionTokens(), (long) info.captionChannels());
            String mask = g.input("caption_mask", DataType.FLOAT, "batch", (long) info.captionTokens());
            String y = ops.linear(ops.geluTanh(ops.linear(caption, "y_embedder.y_proj.fc1")), "y_embedder.y_proj.fc2");
            // (mask - 1)·1e9: 0 for valid tokens, -1e9 for masked ones; [B, 1, 1, L] against scores [B, heads, N, L]
            String bias = ops.reshape(ops.mul(g.op("Sub", mask, ops.one()), g.scalar(1e9f)), 0, 1, 1, info.captionTokens());
            for (int i = 0; i < info.depth(); i++) {
                String pre = "blocks." + i;
                String[] mod = ops.split(ops.add(ops.weight(pre + ".scale_shift_table", 1, 6, hidden), t6), 1, 6);
                x = selfAttentionBranch(x, mod, pre + ".attn", perFrame);
                if (video) x = temporalBranch(x, mod[2], pre + ".attn_temp", i == 0);
                x = ops.add(x, crossAttention(x, y, bias, pre + ".cross_attn"));
                x = mlpBranch(x, mod, pre);
            }
            String[] fin = ops.split(ops.add(ops.weight("final_layer.scale_shift_table", 1, 2, hidden), ops.unsqueeze(te, 1)), 1, 2);
            return finalLayer(x, fin[0], fin[1]);
        }

        /** PixArtMS: te += cat(csize(img_hw) as 2 embeddings, ar(aspect_ratio)). */
        private String microConditions() {
            String hw = g.input("img_hw", DataType.FLOAT, "batch", 2L);
            String ar = g.input("aspect_ratio", DataType.FLOAT, "batch", 1L);
            int third = hidden / 3;
            String sizes = ops.reshape(ops.timestepEmbedder(ops.reshape(hw, -1), "csize_embedder.mlp"), -1, 2L * third);
            String ratio = ops.reshape(ops.timestepEmbedder(ops.reshape(ar, -1), "ar_embedder.mlp"), -1, third);
            return g.op("Concat", List.of(sizes, ratio), Map.of("axis", 1L));
        }

        /** x += g1 · Attn(modulate(LN(x))) within each frame (sequences of {@code seqLen} tokens). */
        private String selfAttentionBranch(String x, String[] mod, String prefix, int seqLen) {
            String h = ops.modulate(ops.layerNorm(x, hidden, 1e-6f), mod[0], mod[1]);
            String[] qkv = ops.chunks(ops.linear(h, prefix + ".qkv"), 3);
            String[] seq = new String[3];
            for (int i = 0; i < 3; i++) seq[i] = ops.reshape(qkv[i], -1, seqLen, hidden); // [B·T, S, H]
            String attended = ops.reshape(ops.attention(seq[0], seq[1], seq[2], heads, headDim, null), -1, (long) frames * perFrame, hidden);
            return ops.add(x, ops.mul(mod[2], ops.linear(attended, prefix + ".proj")));
        }

        /** STDiT: x += g1 · AttnTemp(x (+ temporal PE at block 0)) over the frames of each patch position. */
        private String temporalBranch(String x, String gate, String prefix, boolean addPe) {
            String xt = x;
            if (addPe) {
                float[] pe = SinCos.line1d(hidden, frames, cfg.getDouble("time_scale", 1.0));
                String table = g.floats("pos_embed_temporal_table", pe, 1, frames, 1, hidden);
                xt = ops.reshape(ops.add(ops.reshape(x, 0, frames, perFrame, hidden), table), 0, (long) frames * perFrame, hidden);
            }
            String[] qkv = ops.chunks(ops.linear(xt, prefix + ".qkv"), 3);
            String[] seq = new String[3];
            for (int i = 0; i < 3; i++) { // [B, T, S, H] → [B, S, T, H] → [B·S, T, H]
                seq[i] = ops.reshape(ops.transpose(ops.reshape(qkv[i], 0, frames, perFrame, hidden), 0, 2, 1, 3), -1, frames, hidden);
            }
            String attended = ops.attention(seq[0], seq[1], seq[2], heads, headDim, null); // [B·S, T, H]
            String back = ops.reshape(ops.transpose(ops.reshape(attended, -1, perFrame, frames, hidden), 0, 2, 1, 3),
                    -1, (long) frames * perFrame, hidden);
            return ops.add(x, ops.mul(gate, ops.linear(back, prefix + ".proj")));
        }

        /** Every token of sample b attends to caption b (q_linear; kv_linear rows K then V; proj). */
        private String crossAttention(String x, String y, String bias, String prefix) {
            String q = ops.linear(x, prefix + ".q_linear");
            String[] kv = ops.chunks(ops.linear(y, prefix + ".kv_linear"), 2);
            return ops.linear(ops.attention(q, kv[0], kv[1], heads, headDim, bias), prefix + ".proj");
        }

        /** x += g2 · MLP(modulate(LN(x))). */
        private String mlpBranch(String x, String[] mod, String prefix) {
            String h = ops.modulate(ops.layerNorm(x, hidden, 1e-6f), mod[3], mod[4]);
            String m = ops.linear(ops.geluTanh(ops.linear(h, prefix + ".mlp.fc1")), prefix + ".mlp.fc2");
            return ops.add(x, ops.mul(mod[5], m));
        }

        private String finalLayer(String x, String shift, String scale) {
            return ops.linear(ops.modulate(ops.layerNorm(x, hidden, 1e-6f), shift, scale), "final_layer.linear");
        }

        /** Tokens [B, T·S, p·p·C] → [B, C, (T,) H, W]; within a patch the feature index is (pi·p + pj)·C + c. */
        private String unpatchify(String tokens) {
            long c = info.outChannels();
            if (!video) {
                String six = ops.reshape(tokens, 0, gh, gw, p, p, c);
                return ops.reshape(ops.transpose(six, 0, 5, 1, 3, 2, 4), 0, c, (long) gh * p, (long) gw * p);
            }
            String seven = ops.reshape(tokens, 0, frames, gh, gw, p, p, c);
            return ops.reshape(ops.transpose(seven, 0, 6, 1, 2, 4, 3, 5), 0, c, frames, (long) gh * p, (long) gw * p);
        }
    }
}
