package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head self-attention, scale headDim^-0.5, no mask. Projections either fused (the original repos'
 * {@code qkv} [3H, H], rows [Q | K | V], heads contiguous) or split (diffusers' {@code to_q/to_k/to_v}); then the
 * output projection ({@code proj} / {@code to_out.0}). The fused buffer is read in place through row strides,
 * except where q and k are transformed (q/k normalisation, RoPE) or the kernels do not read a video's temporal
 * sequences in place ({@link dev.viditq.core.kernels.Kernels#attendsInterleavedGroupsInPlace}), when they are copied
 * out first.
 * Open-Sora 1.2 options: per-head RMSNorm of q and k ({@code q_norm}, {@code k_norm}, weight [headDim]), then RoPE
 * over each sequence's positions.
 */
public final class SelfAttention {
    private final Linear qkv;
    private final Linear q, k, v;
    private final SharedInput qkvInput; // to_q / to_k / to_v read x: one group; null when fused
    private final Linear out;
    private final int heads;
    private final int dim;
    private final Tensor qNorm, kNorm; // RMSNorm weights [headDim], or null
    private final float normEps;
    private final Rope rope;           // or null

    private SelfAttention(Linear qkv, Linear q, Linear k, Linear v, Linear out, int heads) {
        this(qkv, q, k, v, out, heads, null, null, 0, null);
    }

    private SelfAttention(Linear qkv, Linear q, Linear k, Linear v, Linear out, int heads,
                          Tensor qNorm, Tensor kNorm, float normEps, Rope rope) {
        this.qNorm = qNorm;
        this.kNorm = kNorm;
        this.normEps = normEps;
        this.rope = rope;
        this.qkv = qkv;
        this.q = q;
        this.k = k;
        this.v = v;
        this.qkvInput = qkv == null ? new SharedInput(List.of(q, k, v)) : null;
        this.out = out;
        this.heads = heads;
        this.dim = out.outFeatures();
        if (dim % heads != 0) throw new IllegalArgumentException(out.name() + ": width " + dim + " not divisible by " + heads + " heads");
    }

    /** Original layout: {@code prefix.qkv} [3H, H] and {@code prefix.proj} [H, H], with biases. */
    public static SelfAttention loadFused(Weights w, String prefix, int dim, int heads) {
        return new SelfAttention(Linear.load(w, prefix + ".qkv", dim, 3 * dim), null, null, null,
                Linear.load(w, prefix + ".proj", dim, dim), heads);
    }

    /**
     * Open-Sora STDiT3 layout: {@code prefix.qkv}, {@code prefix.proj}, and when {@code qkNorm} the RMSNorm weights
     * {@code prefix.q_norm.weight} / {@code prefix.k_norm.weight} [headDim] (eps 1e-6, LlamaRMSNorm); RoPE after the
     * norms when {@code rope} is not null.
     */
    public static SelfAttention loadFusedQkNorm(Weights w, String prefix, int dim, int heads, boolean qkNorm, Rope rope) {
        int headDim = dim / heads;
        Tensor qn = qkNorm ? w.takeF32(prefix + ".q_norm.weight", headDim) : null;
        Tensor kn = qkNorm ? w.takeF32(prefix + ".k_norm.weight", headDim) : null;
        return new SelfAttention(Linear.load(w, prefix + ".qkv", dim, 3 * dim), null, null, null,
                Linear.load(w, prefix + ".proj", dim, dim), heads, qn, kn, 1e-6f, rope);
    }

    /** diffusers layout: {@code prefix.to_q|to_k|to_v} (biases when {@code qkvBias}) and {@code prefix.to_out.0}. */
    public static SelfAttention loadSplit(Weights w, String prefix, int dim, int heads, boolean qkvBias, boolean outBias) {
        return new SelfAttention(null, Linear.load(w, prefix + ".to_q", dim, dim, qkvBias),
                Linear.load(w, prefix + ".to_k", dim, dim, qkvBias), Linear.load(w, prefix + ".to_v", dim, dim, qkvBias),
                Linear.load(w, prefix + ".to_out.0", dim, dim, outBias), heads);
    }

    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        if (qkv != null) all.add(qkv); else all.addAll(List.of(q, k, v));
        all.add(out);
        return all;
    }

    /** The Linears that read the attention's input x (qkv, or to_q / to_k / to_v), not the output projection. */
    public List<Linear> inputLinears() {
        return qkv != null ? List.of(qkv) : List.of(q, k, v);
    }

    /** The split projections' common input (to_q, to_k, to_v); none for the fused qkv. */
    public List<SharedInput> sharedInputs() {
        return qkvInput == null ? List.of() : List.of(qkvInput);
    }

    /** x [rows, H] (any leading shape) → attention within each of {@code seqs}, projected, same shape as x. */
    public Tensor forward(Tensor x, Sequences seqs) {
        if (seqs.rows() != Rows.rows(x)) {
            throw new IllegalArgumentException("attention over " + seqs.rows() + " tokens given " + x);
        }
        Tensor attended = Tensor.allocate(DType.F32, false, x.shape()); // the sequences cover every row
        AttentionRunner.View o = new AttentionRunner.View(attended.data(), 0, dim);
        int headDim = dim / heads;
        if (qkv != null && !copiesQkv(seqs)) {
            Tensor fused = qkv.forward(x);
            AttentionRunner.self(new AttentionRunner.View(fused.data(), 0, 3 * dim),
                    new AttentionRunner.View(fused.data(), dim, 3 * dim),
                    new AttentionRunner.View(fused.data(), 2L * dim, 3 * dim), o, seqs, heads, headDim);
        } else {
            Tensor[] qkvs = denseQkv(x);
            if (transformsQk()) transformQk(qkvs[0], qkvs[1], seqs);
            AttentionRunner.self(new AttentionRunner.View(qkvs[0].data(), 0, dim), new AttentionRunner.View(qkvs[1].data(), 0, dim),
                    new AttentionRunner.View(qkvs[2].data(), 0, dim), o, seqs, heads, headDim);
        }
        return out.forward(attended);
    }

    /** q, k, v as three [rows, H] tensors: the split projections, or the fused buffer's columns copied out. */
    private Tensor[] denseQkv(Tensor x) {
        if (qkv == null) return qkvInput.forward(x);
        Tensor fused = qkv.forward(x);
        return Rows.splitColumns(fused, 3);
    }

    /**
     * Whether the fused buffer's q, k and v are copied out into dense rows: when q and k are transformed, and for a
     * video's temporal sequences when the kernels do not read such interleaved groups in place.
     */
    private boolean copiesQkv(Sequences seqs) {
        return transformsQk() || seqs.kind() == Sequences.Kind.TEMPORAL && !KernelBackend.get().attendsInterleavedGroupsInPlace();
    }

    private boolean transformsQk() {
        return qNorm != null || rope != null;
    }

    /** In place on q and k [rows, dim]: per-head RMSNorm (when configured), then RoPE by position in sequence. */
    private void transformQk(Tensor qs, Tensor ks, Sequences seqs) {
        int headDim = dim / heads;
        long rows = Rows.rows(qs);
        if (qNorm != null) {
            int headRows = Math.toIntExact(rows * heads);
            KernelBackend.get().rmsNorm(qs.data(), headRows, headDim, qNorm.data(), normEps, qs.data());
            KernelBackend.get().rmsNorm(ks.data(), headRows, headDim, kNorm.data(), normEps, ks.data());
        }
        if (rope != null) {
            rope.apply(qs.data(), rows, dim, 0, heads, headDim, seqs::positionOf);
            rope.apply(ks.data(), rows, dim, 0, heads, headDim, seqs::positionOf);
        }
    }
}
