package dev.viditq.nn.layers;

import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A model's embedded caption, kept while the caption stays the same. A sampler calls the model once per step with
 * one conditioning throughout, so the caption's embedding, and every cross-attention's keys and values computed from
 * it, come out the same at every step; recomputing them is ~7% of a PixArt-XL step's matrix products. The memo
 * compares each call's caption and mask with those it embedded before, by content (a caller may refill its tensors
 * between calls), and when they match returns the same embedded tensor. That tensor is never written after it is
 * made, so whoever sees it again ({@link CrossAttention}) may reuse what it computed from it: {@link #generation}
 * names it. Two captions are kept, as guidance run as two passes alternates the conditional and unconditional one.
 *
 * <p>{@code -Dviditq.captionMemo=false} turns it off (every call embeds afresh): for measuring what it saves.
 */
public final class CaptionMemo {
    private static final int ENTRIES = 2;
    private static final AtomicLong GENERATIONS = new AtomicLong();
    /** The embedded tensors of every memo (Tensor keeps Object's identity equality): the generation each was made in. */
    private static final Map<Tensor, Long> MEMOIZED = Collections.synchronizedMap(new WeakHashMap<>());

    private record Entry(Tensor caption, Tensor mask, int batch, List<Object> arithmetic, Tensor embedded) {
        boolean matches(Tensor otherCaption, Tensor otherMask, int otherBatch, List<Object> otherArithmetic) {
            return batch == otherBatch && arithmetic.equals(otherArithmetic) && sameContent(caption, otherCaption)
                    && sameContent(mask, otherMask);
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>(ENTRIES + 1);   // most recently used first

    /**
     * The embedding of {@code caption} (with {@code mask}, either may be null, for {@code batch} samples) by the
     * layers {@code embedder}: the tensor returned for an earlier call with the same contents and the same arithmetic
     * of those layers ({@link Linear#reuseKeys}), or {@code embed}'s, kept for the next call. Nothing is kept while
     * a layer promises nothing (an observer records every call).
     */
    public synchronized Tensor embed(Tensor caption, Tensor mask, int batch, List<Linear> embedder, Supplier<Tensor> embed) {
        List<Object> arithmetic = enabled() ? Linear.reuseKeys(embedder) : null;
        if (arithmetic == null) return embed.get();
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.matches(caption, mask, batch, arithmetic)) {
                it.remove();
                entries.addFirst(e);
                return e.embedded;
            }
        }
        // kept beyond the step that makes it: outside any activation scope, so no scope hands its memory out again
        Entry fresh = ActivationPool.unscoped(() -> new Entry(copyOf(caption), copyOf(mask), batch, arithmetic, embed.get()));
        MEMOIZED.put(fresh.embedded, GENERATIONS.incrementAndGet());
        entries.addFirst(fresh);
        if (entries.size() > ENTRIES) MEMOIZED.remove(entries.removeLast().embedded);
        return fresh.embedded;
    }

    /**
     * The generation of an embedded caption a memo returned and still keeps, or 0 for any other tensor. Its contents
     * do not change while it has a generation: what was computed from it with the same arithmetic holds.
     */
    public static long generation(Tensor embedded) {
        Long g = embedded == null ? null : MEMOIZED.get(embedded);
        return g == null ? 0 : g;
    }

    /** Whether a memo still keeps the embedded caption of {@code generation} (what was computed from it may go when not). */
    public static boolean kept(long generation) {
        return MEMOIZED.containsValue(generation);
    }

    /** Read at every call, so that a benchmark or test can compare with it off in one JVM. */
    private static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("viditq.captionMemo"));
    }

    private static Tensor copyOf(Tensor t) {
        return t == null ? null : t.copy();
    }

    private static boolean sameContent(Tensor kept, Tensor now) {
        if (kept == null || now == null) return kept == now;
        if (kept.dtype() != now.dtype() || !Arrays.equals(kept.shape(), now.shape())) return false;
        long bytes = now.dtype().byteSize(now.numel());
        return MemorySegment.mismatch(kept.data(), 0, bytes, now.data(), 0, bytes) == -1;
    }
}
