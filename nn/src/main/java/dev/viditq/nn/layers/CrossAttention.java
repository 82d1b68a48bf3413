package dev.viditq.nn.layers;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Multi-head cross-attention from image/video tokens to caption tokens, scale headDim^-0.5. Projections in the
 * original layout ({@code q_linear}, {@code kv_linear} [2H, H] with K rows then V rows, {@code proj}) or the
 * diffusers one ({@code to_q}, {@code to_k}, {@code to_v}, {@code to_out.0}). All tokens of sample b (all its
 * frames) attend to caption b, filtered by a {@link CaptionMask}. The caption's keys and values are kept for the
 * next call when the caption is a {@link CaptionMemo}'s (unchanged since it was made) and the projections promise the
 * same arithmetic ({@link Linear.Executor#reuseKey}): a sampler's steps then project them once.
 */
public final class CrossAttention {
    /** The caption's keys and values, as views of the projections' outputs. */
    private record KeysValues(AttentionRunner.View keys, AttentionRunner.View values) {}

    private final Linear q;
    private final Linear kv;
    private final Linear k, v;
    private final SharedInput kvInput; // to_k / to_v read the caption: one group; null when fused
    private final Linear out;
    private final int heads;
    private final int dim;
    private final CaptionMemo.Derived<KeysValues> kept = new CaptionMemo.Derived<>();

    private CrossAttention(Linear q, Linear kv, Linear k, Linear v, Linear out, int heads) {
        this.q = q;
        this.kv = kv;
        this.k = k;
        this.v = v;
        this.kvInput = kv == null ? new SharedInput(List.of(k, v)) : null;
        this.out = out;
        this.heads = heads;
        this.dim = q.outFeatures();
        if (dim % heads != 0) throw new IllegalArgumentException(q.name() + ": width " + dim + " not divisible by " + heads + " heads");
    }

    /** Original layout under {@code prefix} (PixArt / Open-Sora {@code cross_attn}); context width = dim. */
    public static CrossAttention loadFused(Weights w, String prefix, int dim, int heads) {
        return new CrossAttention(Linear.load(w, prefix + ".q_linear", dim, dim), Linear.load(w, prefix + ".kv_linear", dim, 2 * dim),
                null, null, Linear.load(w, prefix + ".proj", dim, dim), heads);
    }

    /** diffusers layout ({@code attn2}); keys and values come from a context of width {@code contextDim}. */
    public static CrossAttention loadSplit(Weights w, String prefix, int dim, int contextDim, int heads, boolean qkvBias, boolean outBias) {
        return new CrossAttention(Linear.load(w, prefix + ".to_q", dim, dim, qkvBias), null,
                Linear.load(w, prefix + ".to_k", contextDim, dim, qkvBias), Linear.load(w, prefix + ".to_v", contextDim, dim, qkvBias),
                Linear.load(w, prefix + ".to_out.0", dim, dim, outBias), heads);
    }

    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(List.of(q));
        if (kv != null) all.add(kv); else all.addAll(List.of(k, v));
        all.add(out);
        return all;
    }

    /** The split key and value projections' common input (the caption); none for the fused kv_linear. */
    public List<SharedInput> sharedInputs() {
        return kvInput == null ? List.of() : List.of(kvInput);
    }

    /**
     * @param x       queries [rows, H], the rows of each of the {@code batch} samples contiguous
     * @param context caption tokens [batch, L, C] (already projected by the caption embedder)
     */
    public Tensor forward(Tensor x, int batch, Tensor context, CaptionMask mask) {
        int rows = Rows.rows(x);
        if (rows % batch != 0) throw new IllegalArgumentException(rows + " query rows do not split into " + batch + " samples");
        if (context.rank() != 3 || context.dim(0) != batch) {
            throw new IllegalArgumentException("caption context must be [" + batch + ", L, C], got " + context);
        }
        mask.checkBatch(batch);
        int perSample = rows / batch, captionTokens = context.size(1), headDim = dim / heads;
        Tensor qs = q.forward(x);
        Tensor attended = Tensor.allocate(DType.F32, false, x.shape()); // every sample's rows are written below
        AttentionRunner.View qv = new AttentionRunner.View(qs.data(), 0, dim);
        AttentionRunner.View o = new AttentionRunner.View(attended.data(), 0, dim);
        KeysValues projected = keysValues(context, mask.realTokenRows(batch, captionTokens));
        for (int b = 0; b < batch; b++) {
            if (mask.attendsToNothing(b)) { // attention to no token adds nothing: its rows are zero
                attended.data().asSlice((long) b * perSample * dim * Float.BYTES, (long) perSample * dim * Float.BYTES).fill((byte) 0);
                continue;
            }
            AttentionRunner.cross(qv, (long) b * perSample, perSample, projected.keys(), projected.values(), (long) b * captionTokens, captionTokens,
                    o, heads, headDim, mask.bias(b));
        }
        return out.forward(attended);
    }

    /** The caption's keys and values: kept from an earlier call for a memoized caption, else projected now. */
    private KeysValues keysValues(Tensor context, IntPredicate realTokens) {
        return kept.of(context, kv != null ? List.of(kv) : List.of(k, v), () -> project(context, realTokens));
    }

    /** Keys and values projected from the caption (padding is projected, never attended to). */
    private KeysValues project(Tensor context, IntPredicate realTokens) {
        if (kv != null) {
            Tensor fused = kv.forward(context, realTokens);
            return new KeysValues(new AttentionRunner.View(fused.data(), 0, 2 * dim), new AttentionRunner.View(fused.data(), dim, 2 * dim));
        }
        Tensor[] kvs = kvInput.forward(context, realTokens);
        return new KeysValues(new AttentionRunner.View(kvs[0].data(), 0, dim), new AttentionRunner.View(kvs[1].data(), 0, dim));
    }
}
