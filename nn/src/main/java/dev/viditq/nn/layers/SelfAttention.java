package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head self-attention, scale headDim^-0.5, no mask. Projections either fused (the original repos'
 * {@code qkv} [3H, H], rows [Q | K | V], heads contiguous) or split (diffusers' {@code to_q/to_k/to_v}); then the
 * output projection ({@code proj} / {@code to_out.0}). The fused buffer is read in place, never split.
 */
public final class SelfAttention {
    private final Linear qkv;
    private final Linear q, k, v;
    private final Linear out;
    private final int heads;
    private final int dim;

    private SelfAttention(Linear qkv, Linear q, Linear k, Linear v, Linear out, int heads) {
        this.qkv = qkv;
        this.q = q;
        this.k = k;
        this.v = v;
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

    /** x [rows, H] (any leading shape) → attention within each of {@code seqs}, projected, same shape as x. */
    public Tensor forward(Tensor x, Sequences seqs) {
        if (seqs.rows() != Rows.rows(x)) {
            throw new IllegalArgumentException("attention over " + seqs.rows() + " tokens given " + x);
        }
        Tensor attended = Tensor.zeros(x.shape());
        AttentionRunner.View o = new AttentionRunner.View(attended.data(), 0, dim);
        List<AttentionRunner.Task> tasks = AttentionRunner.selfTasks(seqs);
        int headDim = dim / heads;
        if (qkv != null) {
            Tensor fused = qkv.forward(x);
            AttentionRunner.run(tasks, new AttentionRunner.View(fused.data(), 0, 3 * dim),
                    new AttentionRunner.View(fused.data(), dim, 3 * dim),
                    new AttentionRunner.View(fused.data(), 2L * dim, 3 * dim), o, heads, headDim);
        } else {
            Tensor qs = q.forward(x), ks = k.forward(x), vs = v.forward(x);
            AttentionRunner.run(tasks, new AttentionRunner.View(qs.data(), 0, dim),
                    new AttentionRunner.View(ks.data(), 0, dim), new AttentionRunner.View(vs.data(), 0, dim), o, heads, headDim);
        }
        return out.forward(attended);
    }
}
