package dev.viditq.nn.text;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.RenamedTensorFile;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * transformers' {@code T5EncoderModel} and {@code UMT5EncoderModel}: token embedding, blocks of (RMSNorm → self-attention with relative
 * position bias → residual, RMSNorm → feed-forward → residual), final RMSNorm; {@link #forward} returns
 * {@code last_hidden_state}. Keys as {@code save_pretrained} writes them ({@code shared.weight} and/or
 * {@code encoder.embed_tokens.weight}, {@code encoder.block.{i}.layer.{0,1}...}).
 *
 * <p>Weights stay as stored (memory-mapped F32/BF16/F16): every projection is a {@link Linear}, the embedding is
 * gathered row by row, and only the small norms and the bias table are converted to F32. So T5-XXL in BF16
 * (about 9.5 GB) runs from the mapping without a float copy. The encoder runs once per generation, so its
 * projections multiply with {@link Linear#FLOAT_ONCE}: no packed copy of a weight, nor its mapped pages, stays
 * resident through the denoiser's steps that follow.
 *
 * <p>Attention follows T5: no 1/√d scaling of q·kᵀ (folded into the initialisation), the bucketed relative position
 * bias of block 0 shared by all blocks (umT5: every block has its own table, {@link T5Config#biasPerLayer()}),
 * padded keys masked out.
 */
public final class T5Encoder implements AutoCloseable {
    /** Added to the scores of padded keys: exp underflows to exactly 0, as with transformers' dtype-min mask. */
    static final float MASKED = -1e9f;

    private final T5Config config;
    private final Tensor embedding;         // [vocab, d_model], as stored
    private final List<Block> blocks = new ArrayList<>();
    private final Tensor finalNorm;         // F32 [d_model]
    private final TensorFile file;          // closed with the encoder when this encoder opened it

    /** relativeBias: F32 [buckets, heads], one object shared by all blocks in T5, per block in umT5. */
    private record Block(Tensor relativeBias, Tensor attnNorm, Linear q, Linear k, Linear v, Linear o,
                         Tensor ffNorm, Linear wi0, Linear wi1, Linear wo) {}

    /** Builds the encoder from {@code weights} (all keys checked, see {@link Weights#finish()}). */
    public T5Encoder(T5Config config, Weights weights) {
        this(config, weights, null);
    }

    private T5Encoder(T5Config config, Weights w, TensorFile owned) {
        this.config = config;
        this.file = owned;
        int d = config.dModel(), inner = config.innerDim(), ff = config.dFf();
        embedding = takeEmbedding(w, config);
        Tensor sharedBias = null;
        for (int i = 0; i < config.numLayers(); i++) {
            String b = "encoder.block." + i + ".layer.";
            String a = b + "0.SelfAttention.";
            String f = b + "1.DenseReluDense.";
            boolean gated = config.gatedActivation();
            Tensor bias = sharedBias != null && !config.biasPerLayer() ? sharedBias
                    : w.takeF32(a + "relative_attention_bias.weight", config.relativeAttentionNumBuckets(), config.numHeads());
            if (i == 0) sharedBias = bias;
            blocks.add(new Block(bias,
                    w.takeF32(b + "0.layer_norm.weight", d),
                    Linear.load(w, a + "q", d, inner, false), Linear.load(w, a + "k", d, inner, false),
                    Linear.load(w, a + "v", d, inner, false), Linear.load(w, a + "o", inner, d, false),
                    w.takeF32(b + "1.layer_norm.weight", d),
                    Linear.load(w, f + (gated ? "wi_0" : "wi"), d, ff, false),
                    gated ? Linear.load(w, f + "wi_1", d, ff, false) : null,
                    Linear.load(w, f + "wo", ff, d, false)));
        }
        finalNorm = w.takeF32("encoder.final_layer_norm.weight", d);
        w.ignore("decoder\\..*|lm_head\\..*"); // a full T5 checkpoint also carries the decoder
        w.finish();
        for (Linear l : linears()) l.setExecutor(Linear.FLOAT_ONCE);
    }

    /**
     * The encoder in {@code dir}: its config.json and checkpoint (model.safetensors, a sharded index, or a
     * PyTorch file; see {@link Checkpoints}). A diffusers pipeline's {@code text_encoder/} folder is looked into.
     */
    public static T5Encoder load(Path dir) {
        if (Files.isRegularFile(dir)) return loadFile(dir);
        if (!Files.isRegularFile(dir.resolve("config.json")) && Files.isDirectory(dir.resolve("text_encoder"))) {
            dir = dir.resolve("text_encoder");
        }
        T5Config config = T5Config.load(dir.resolve("config.json"));
        TensorFile file = Checkpoints.open(dir);
        try {
            return new T5Encoder(config, new Weights(file), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * A checkpoint file without a config: the original Wan repository's umT5 encoder
     * ({@code models_t5_umt5-xxl-enc-bf16.pth}), renamed and sized by {@link WanT5Keys}.
     */
    private static T5Encoder loadFile(Path checkpoint) {
        TensorFile file = Checkpoints.open(checkpoint);
        try {
            if (!WanT5Keys.isOriginal(file.names())) {
                throw new CheckpointException(checkpoint, "is a checkpoint without a config.json: only the original Wan umT5 "
                        + "encoder (token_embedding, blocks.N.attn, ...) is read that way; give the folder holding config.json");
            }
            T5Config config = WanT5Keys.config(file);
            TensorFile view = new RenamedTensorFile(file, WanT5Keys::toTransformers);
            return new T5Encoder(config, new Weights(view), view);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The token embedding: {@code encoder.embed_tokens.weight} when saved, else the tied {@code shared.weight}. */
    private static Tensor takeEmbedding(Weights w, T5Config c) {
        Tensor shared = w.has("shared.weight") ? w.take("shared.weight", c.vocabSize(), c.dModel()) : null;
        Tensor own = w.has("encoder.embed_tokens.weight") ? w.take("encoder.embed_tokens.weight", c.vocabSize(), c.dModel()) : null;
        if (own != null) return own;
        return shared != null ? shared : w.take("shared.weight", c.vocabSize(), c.dModel()); // records the missing key
    }

    public T5Config config() {
        return config;
    }

    /** Every projection, in execution order (the quantization seam). */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        for (Block b : blocks) {
            all.add(b.q());
            all.add(b.k());
            all.add(b.v());
            all.add(b.o());
            all.add(b.wi0());
            if (b.wi1() != null) all.add(b.wi1());
            all.add(b.wo());
        }
        return all;
    }

    /** {@code last_hidden_state} for I64/I32 {@code inputIds} and {@code attentionMask} of shape [B, L]. */
    public Tensor forward(Tensor inputIds, Tensor attentionMask) {
        return forward(toIntRows(inputIds, "input_ids"), toIntRows(attentionMask, "attention_mask"));
    }

    /**
     * {@code last_hidden_state} F32 [B, L, d_model] for token ids [B][L] and attention mask [B][L] (1 = token,
     * 0 = padding). Rows at padded positions are computed too, as transformers does.
     */
    public Tensor forward(int[][] ids, int[][] mask) {
        int batch = ids.length;
        if (batch == 0) throw new IllegalArgumentException("empty batch");
        int len = ids[0].length;
        checkShapes(ids, mask, len);
        Kernels k = KernelBackend.get();
        int d = config.dModel();
        Tensor x = embed(ids, len);
        Tensor positionBias = null, biasTable = null;
        MemorySegment[] keyBias = new MemorySegment[batch];
        for (int b = 0; b < batch; b++) keyBias[b] = keyBias(mask[b]);
        for (Block block : blocks) {
            if (block.relativeBias() != biasTable) { // once for T5, per block for umT5
                biasTable = block.relativeBias();
                positionBias = positionBias(len, biasTable);
            }
            Tensor h = rmsNorm(x, block.attnNorm());
            Tensor attended = selfAttention(block, h, batch, len, positionBias, keyBias);
            k.add(x.data(), attended.data(), x.data(), x.numel());
            h = rmsNorm(x, block.ffNorm());
            Tensor y = feedForward(block, h);
            k.add(x.data(), y.data(), x.data(), x.numel());
        }
        k.rmsNorm(x.data(), batch * len, d, finalNorm.data(), config.layerNormEpsilon(), x.data());
        return x.reshape(batch, len, d);
    }

    private Tensor selfAttention(Block block, Tensor h, int batch, int len, Tensor positionBias, MemorySegment[] keyBias) {
        Tensor q = block.q().forward(h), kk = block.k().forward(h), v = block.v().forward(h);
        int inner = config.innerDim();
        Tensor out = Tensor.zeros(batch * (long) len, inner);
        long sampleBytes = (long) len * inner * Float.BYTES;
        for (int b = 0; b < batch; b++) {
            long off = b * sampleBytes;
            KernelBackend.get().attention(
                    q.data().asSlice(off, sampleBytes), inner, kk.data().asSlice(off, sampleBytes), inner,
                    v.data().asSlice(off, sampleBytes), inner, out.data().asSlice(off, sampleBytes), inner,
                    len, len, config.numHeads(), config.dKv(), 1.0f,
                    new AttentionBias(keyBias[b], positionBias.data()));
        }
        return block.o().forward(out);
    }

    private Tensor feedForward(Block block, Tensor h) {
        Tensor a = block.wi0().forward(h);
        activate(a);
        if (block.wi1() != null) {
            Tensor gate = block.wi1().forward(h);
            KernelBackend.get().mul(a.data(), gate.data(), a.data(), a.numel());
        }
        return block.wo().forward(a);
    }

    private void activate(Tensor a) {
        Kernels k = KernelBackend.get();
        switch (config.activation()) {
            case "gelu_new" -> k.geluTanh(a.data(), a.numel());
            case "gelu" -> k.geluErf(a.data(), a.numel());
            case "silu" -> k.silu(a.data(), a.numel());
            case "relu" -> relu(a.data(), a.numel());
            default -> throw new IllegalStateException("activation " + config.activation());
        }
    }

    private static void relu(MemorySegment s, long n) {
        for (long i = 0; i < n; i++) {
            if (s.getAtIndex(F32_LE, i) < 0) s.setAtIndex(F32_LE, i, 0f);
        }
    }

    private Tensor rmsNorm(Tensor x, Tensor gamma) {
        Tensor y = Tensor.zeros(x.shape());
        KernelBackend.get().rmsNorm(x.data(), x.size(0), config.dModel(), gamma.data(), config.layerNormEpsilon(), y.data());
        return y;
    }

    /** Embedding rows gathered one token at a time, converted to F32 (the table itself stays as stored). */
    private Tensor embed(int[][] ids, int len) {
        int d = config.dModel();
        Tensor x = Tensor.zeros((long) ids.length * len, d);
        for (int b = 0; b < ids.length; b++) {
            for (int t = 0; t < len; t++) {
                int id = ids[b][t];
                if (id < 0 || id >= embedding.dim(0)) {
                    throw new IllegalArgumentException("token id " + id + " (sample " + b + ", position " + t
                            + ") is outside the embedding of " + embedding.dim(0) + " rows");
                }
                copyRowAsF32(embedding, id, x.data(), ((long) b * len + t) * d, d);
            }
        }
        return x;
    }

    private static void copyRowAsF32(Tensor table, int row, MemorySegment out, long outIndex, int d) {
        long base = (long) row * d;
        if (table.dtype() == DType.F32) {
            MemorySegment.copy(table.data(), base * Float.BYTES, out, outIndex * Float.BYTES, (long) d * Float.BYTES);
            return;
        }
        for (int i = 0; i < d; i++) out.setAtIndex(F32_LE, outIndex + i, table.getFloat(base + i));
    }

    /** F32 [heads, len, len]: bias[h, i, j] = table[bucket(j - i), h], table F32 [buckets, heads]. */
    private Tensor positionBias(int len, Tensor relativeBias) {
        int heads = config.numHeads();
        Tensor bias = Tensor.zeros(heads, len, len);
        for (int i = 0; i < len; i++) {
            for (int j = 0; j < len; j++) {
                int bucket = relativePositionBucket(j - i, config.relativeAttentionNumBuckets(), config.relativeAttentionMaxDistance());
                for (int h = 0; h < heads; h++) {
                    bias.data().setAtIndex(F32_LE, ((long) h * len + i) * len + j, relativeBias.getFloat((long) bucket * heads + h));
                }
            }
        }
        return bias;
    }

    /**
     * T5's bidirectional bucket of a relative position (key − query): half the buckets per direction, exact
     * below half of those, logarithmic up to {@code maxDistance}. The logarithm is taken in float32, as
     * transformers does, so bucket boundaries fall where its own do.
     */
    static int relativePositionBucket(int relativePosition, int numBuckets, int maxDistance) {
        int half = numBuckets / 2;
        int bucket = relativePosition > 0 ? half : 0;
        int distance = Math.abs(relativePosition);
        int maxExact = half / 2;
        if (distance < maxExact) return bucket + distance;
        float ratio = (float) distance / maxExact;
        float scaled = (float) Math.log(ratio) / (float) Math.log((double) maxDistance / maxExact) * (half - maxExact);
        return bucket + Math.min(maxExact + (int) scaled, half - 1);
    }

    private static MemorySegment keyBias(int[] mask) {
        Tensor t = Tensor.zeros(mask.length);
        for (int j = 0; j < mask.length; j++) t.data().setAtIndex(F32_LE, j, mask[j] != 0 ? 0f : MASKED);
        return t.data();
    }

    private static void checkShapes(int[][] ids, int[][] mask, int len) {
        if (mask.length != ids.length) throw new IllegalArgumentException(ids.length + " id rows but " + mask.length + " mask rows");
        for (int b = 0; b < ids.length; b++) {
            if (ids[b].length != len || mask[b].length != len) {
                throw new IllegalArgumentException("sample " + b + " has " + ids[b].length + " ids and " + mask[b].length
                        + " mask entries; every row needs " + len);
            }
        }
    }

    private static int[][] toIntRows(Tensor t, String what) {
        if (t.rank() != 2) throw new IllegalArgumentException(what + " must be [batch, length], is " + t);
        int rows = t.size(0), cols = t.size(1);
        int[][] out = new int[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r][c] = Math.toIntExact(t.getLong((long) r * cols + c));
        return out;
    }

    @Override
    public void close() {
        if (file != null) file.close();
    }
}
