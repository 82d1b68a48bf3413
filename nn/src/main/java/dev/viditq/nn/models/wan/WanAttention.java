package dev.viditq.nn.models.wan;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.CaptionMemo;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.Rows;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.nn.layers.Weights;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' {@code WanAttention} with its processor: to_q/to_k/to_v (biases), q and k RMS-normalised over the whole
 * inner dimension (all heads together, {@code norm_q}/{@code norm_k} weights [inner]) before the head split,
 * softmax attention scaled by headDim^-½ without mask, to_out.0. Self-attention rotates q and k with the
 * {@link WanRope 3D RoPE}; cross-attention attends to the projected caption, and in the I2V layout also to the image
 * tokens through add_k_proj/add_v_proj (k normalised by norm_added_k), the two results summed before to_out.
 */
public final class WanAttention {
    /**
     * The caption length the official processor assumes when it splits the I2V context into image and text:
     * everything but the last 512 tokens is image ({@code encoder_hidden_states.shape[1] - 512}).
     */
    public static final int OFFICIAL_TEXT_TOKENS = 512;

    /** Which input the projections read: a self-attention's q, k, v read x; a cross-attention's k, v the context. */
    public enum Role { SELF, CROSS }

    private final Role role;
    private final Linear q, k, v, out;
    private final SharedInput projectionInput;   // SELF: to_q/to_k/to_v; CROSS: to_k/to_v
    private final SharedInput imageInput;        // I2V only: add_k_proj/add_v_proj
    private final Tensor normQ, normK;
    private final Linear addK, addV;   // I2V only
    private final Tensor normAddedK;   // I2V only
    private final int heads;
    private final int dim;
    private final float eps;
    private final CaptionMemo.Derived<ContextKeys> kept = new CaptionMemo.Derived<>();   // of a memoized context

    private WanAttention(Role role, Linear q, Linear k, Linear v, Linear out, Tensor normQ, Tensor normK, Linear addK, Linear addV,
                         Tensor normAddedK, int heads, float eps) {
        if (role == Role.SELF && addK != null) throw new IllegalArgumentException(q.name() + ": a self-attention has no added K/V branch");
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
        this.normQ = normQ;
        this.normK = normK;
        this.addK = addK;
        this.addV = addV;
        this.normAddedK = normAddedK;
        this.role = role;
        this.projectionInput = new SharedInput(role == Role.SELF ? List.of(q, k, v) : List.of(k, v));
        this.imageInput = addK == null ? null : new SharedInput(List.of(addK, addV));
        this.heads = heads;
        this.dim = q.outFeatures();
        this.eps = eps;
        if (dim % heads != 0) throw new IllegalArgumentException(q.name() + ": width " + dim + " not divisible by " + heads + " heads");
    }

    /**
     * Loads {@code prefix.to_q|to_k|to_v|to_out.0} [dim, dim] and {@code prefix.norm_q|norm_k.weight} [dim]; with
     * {@code addedKvDim} &gt; 0 (the I2V layout's added_kv_proj_dim) also {@code prefix.add_k_proj|add_v_proj} [dim, addedKvDim]
     * and {@code norm_added_k.weight}. {@code role} says which of its Linears read one input.
     */
    public static WanAttention load(Weights w, String prefix, Role role, int dim, int heads, float eps, int addedKvDim) {
        boolean image = addedKvDim > 0;
        return new WanAttention(role, Linear.load(w, prefix + ".to_q", dim, dim), Linear.load(w, prefix + ".to_k", dim, dim),
                Linear.load(w, prefix + ".to_v", dim, dim), Linear.load(w, prefix + ".to_out.0", dim, dim),
                w.takeF32(prefix + ".norm_q.weight", dim), w.takeF32(prefix + ".norm_k.weight", dim),
                image ? Linear.load(w, prefix + ".add_k_proj", addedKvDim, dim) : null,
                image ? Linear.load(w, prefix + ".add_v_proj", addedKvDim, dim) : null,
                image ? w.takeF32(prefix + ".norm_added_k.weight", dim) : null, heads, eps);
    }

    /** Every Linear in execution order: to_q, to_k, to_v, (add_k_proj, add_v_proj,) to_out.0. */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(List.of(q, k, v));
        if (addK != null) all.addAll(List.of(addK, addV));
        all.add(out);
        return all;
    }

    /** The Linears that read the (modulated) input x: to_q, to_k, to_v of a self-attention. */
    public List<Linear> inputLinears() {
        return List.of(q, k, v);
    }

    /** The groups of Linears reading one input: q, k, v of a self-attention; k, v (and add_k, add_v) of a cross-attention. */
    public List<SharedInput> sharedInputs() {
        return imageInput == null ? List.of(projectionInput) : List.of(projectionInput, imageInput);
    }

    /** Self-attention over each sample's tokens: x [samples·tokens, dim], rotated by {@code rope}. */
    public Tensor self(Tensor x, int samples, WanRope.Grid rope) {
        int tokens = rope.tokens();
        requireRole(Role.SELF);
        Tensor[] qkv = projectionInput.forward(x);
        Tensor qs = normalised(qkv[0], normQ), ks = normalised(qkv[1], normK), vs = qkv[2];
        rope.apply(qs.data(), samples, heads);
        rope.apply(ks.data(), samples, heads);
        if (Rows.rows(x) != (long) samples * tokens) {
            throw new IllegalArgumentException("self-attention over " + samples + " samples of " + tokens + " tokens given " + x);
        }
        Tensor attended = Tensor.allocate(DType.F32, false, x.shape()); // every sample's rows are written below
        for (int b = 0; b < samples; b++) attend(qs, b, tokens, ks, vs, b, tokens, attended);
        return out.forward(attended);
    }

    /**
     * Cross-attention of x [samples·tokens, dim] to {@code context} [samples, L, dim] (the projected caption, with the
     * projected image tokens in front in the I2V layout, split as the official processor splits it).
     */
    public Tensor cross(Tensor x, int samples, Tensor context) {
        int rows = Rows.rows(x), tokens = rows / samples, length = context.size(1);
        if (rows % samples != 0 || context.size(0) != samples) {
            throw new IllegalArgumentException("cross-attention of " + rows + " rows in " + samples + " samples to " + context);
        }
        requireRole(Role.CROSS);
        Tensor qs = normalised(q.forward(x), normQ);
        Tensor attended = Tensor.allocate(DType.F32, false, x.shape()); // every sample's rows are written below
        int imageTokens = addK == null ? 0 : length - OFFICIAL_TEXT_TOKENS;
        if (addK != null && imageTokens < 0) {
            throw new IllegalArgumentException("the I2V cross-attention takes the image tokens followed by " + OFFICIAL_TEXT_TOKENS
                    + " caption tokens (the official length); got a context of " + length);
        }
        ContextKeys keys = kept.of(context, addK == null ? List.of(k, v) : List.of(k, v, addK, addV),
                () -> contextKeys(context, imageTokens, length));
        for (int b = 0; b < samples; b++) attend(qs, b, tokens, keys.text(), keys.textValues(), b, length - imageTokens, attended);
        if (addK != null) {
            Tensor fromImage = Tensor.zeros(x.shape());
            for (int b = 0; b < samples; b++) attend(qs, b, tokens, keys.image(), keys.imageValues(), b, imageTokens, fromImage);
            Rows.addInPlace(attended, fromImage);
        }
        return out.forward(attended);
    }

    /** The keys (normalised) and values of the caption's tokens, and of the image's tokens for I2V (else null). */
    private record ContextKeys(Tensor text, Tensor textValues, Tensor image, Tensor imageValues) {}

    private ContextKeys contextKeys(Tensor context, int imageTokens, int length) {
        Tensor[] kv = projectionInput.forward(rowsOf(context, imageTokens, length));
        if (addK == null) return new ContextKeys(normalised(kv[0], normK), kv[1], null, null);
        Tensor[] kvi = imageInput.forward(rowsOf(context, 0, imageTokens));
        return new ContextKeys(normalised(kv[0], normK), kv[1], normalised(kvi[0], normAddedK), kvi[1]);
    }

    /** The groups of Linears reading one input are those of the role it was loaded for. */
    private void requireRole(Role wanted) {
        if (role != wanted) throw new IllegalStateException(q.name() + ": loaded as " + role + " attention, run as " + wanted);
    }

    /** Queries of sample {@code qb} ({@code lq} rows) attend to the {@code lk} key/value rows of sample {@code kb}. */
    private void attend(Tensor qs, int qb, int lq, Tensor ks, Tensor vs, int kb, int lk, Tensor into) {
        int headDim = dim / heads;
        KernelBackend.get().attention(rowsFrom(qs, (long) qb * lq), dim, rowsFrom(ks, (long) kb * lk), dim,
                rowsFrom(vs, (long) kb * lk), dim, rowsFrom(into, (long) qb * lq), dim, lq, lk, heads, headDim,
                (float) (1.0 / Math.sqrt(headDim)), AttentionBias.NONE);
    }

    private MemorySegment rowsFrom(Tensor t, long row) {
        return t.data().asSlice(row * dim * Float.BYTES);
    }

    /** In place: RMSNorm over the whole inner dimension (torch.nn.RMSNorm(inner, eps) with weight). */
    private Tensor normalised(Tensor t, Tensor weight) {
        KernelBackend.get().rmsNorm(t.data(), Rows.rows(t), dim, weight.data(), eps, t.data());
        return t;
    }

    /** Rows [from, to) of every sample of [samples, L, C], as a new [samples, to − from, C]. */
    static Tensor rowsOf(Tensor seq, int from, int to) {
        int samples = seq.size(0), length = seq.size(1), width = seq.size(2);
        if (from == 0 && to == length) return seq;
        Tensor part = Tensor.zeros(samples, to - from, width);
        long rowBytes = (long) width * Float.BYTES;
        for (int b = 0; b < samples; b++) {
            MemorySegment.copy(seq.data(), ((long) b * length + from) * rowBytes, part.data(),
                    (long) b * (to - from) * rowBytes, (to - from) * rowBytes);
        }
        return part;
    }
}
