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
 * compares each call's inputs (caption, mask, an image's states) with those it embedded before, by content (a caller
 * may refill its tensors between calls), and when they match returns the same embedded tensor. That tensor is never
 * written after it is made, so whoever sees it again (a cross-attention, through {@link Derived}) may reuse what it
 * computed from it: {@link #generation} names it. Two captions are kept, as guidance run as two passes alternates
 * the conditional and the unconditional one.
 *
 * <p>{@code -Dviditq.captionMemo=false} turns it off (every call embeds afresh): for measuring what it saves.
 */
public final class CaptionMemo {
    private static final int ENTRIES = 2;
    private static final AtomicLong GENERATIONS = new AtomicLong();
    /** The embedded tensors of every memo (Tensor keeps Object's identity equality): the generation each was made in. */
    private static final Map<Tensor, Long> MEMOIZED = Collections.synchronizedMap(new WeakHashMap<>());

    private record Entry(Tensor[] inputs, int batch, List<Object> arithmetic, Tensor embedded) {
        boolean matches(Tensor[] otherInputs, int otherBatch, List<Object> otherArithmetic) {
            if (batch != otherBatch || inputs.length != otherInputs.length || !arithmetic.equals(otherArithmetic)) return false;
            for (int i = 0; i < inputs.length; i++) if (!sameContent(inputs[i], otherInputs[i])) return false;
            return true;
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>(ENTRIES + 1);   // most recently used first

    /**
     * The embedding of {@code inputs} (the caption, and whatever else the embedding reads: its mask, an image's
     * states; null where absent) for {@code batch} samples by the layers {@code embedder}: the tensor returned for an
     * earlier call with the same contents and the same arithmetic of those layers ({@link Linear#reuseKeys}), or
     * {@code embed}'s, kept for the next call. Nothing is kept while a layer promises nothing (an observer records
     * every call).
     */
    public synchronized Tensor embed(List<Linear> embedder, int batch, Supplier<Tensor> embed, Tensor... inputs) {
        List<Object> arithmetic = enabled() ? Linear.reuseKeys(embedder) : null;
        if (arithmetic == null) return embed.get();
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.matches(inputs, batch, arithmetic)) {
                it.remove();
                entries.addFirst(e);
                return e.embedded;
            }
        }
        // kept beyond the step that makes it: outside any activation scope, so no scope hands its memory out again
        Entry fresh = ActivationPool.unscoped(() -> new Entry(copies(inputs), batch, arithmetic, embed.get()));
        MEMOIZED.put(fresh.embedded, GENERATIONS.incrementAndGet());
        entries.addFirst(fresh);
        if (entries.size() > ENTRIES) MEMOIZED.remove(entries.removeLast().embedded);
        return fresh.embedded;
    }

    /**
     * What a layer computes from an embedded caption (a cross-attention's keys and values), kept while the caption is
     * a memo's unchanged one and the computing layers' arithmetic stays the same; at most one value per caption a
     * memo still keeps.
     */
    public static final class Derived<T> {
        private record Kept<T>(long generation, List<Object> arithmetic, T value) {}

        private final ArrayDeque<Kept<T>> kept = new ArrayDeque<>();   // newest first

        /** The value computed from {@code caption} by {@code layers}: kept from an earlier call, or {@code compute}'s. */
        public T of(Tensor caption, List<Linear> layers, Supplier<T> compute) {
            long generation = generation(caption);
            List<Object> arithmetic = generation == 0 ? null : Linear.reuseKeys(layers);
            if (arithmetic == null) return compute.get();
            synchronized (kept) {
                for (Kept<T> k : kept) if (k.generation() == generation && k.arithmetic().equals(arithmetic)) return k.value();
            }
            // kept beyond this call: outside the caller's activation scope, which would hand the memory out again
            T fresh = ActivationPool.unscoped(compute);
            synchronized (kept) {
                kept.removeIf(k -> k.generation() == generation || !CaptionMemo.kept(k.generation()));
                kept.addFirst(new Kept<>(generation, arithmetic, fresh));
            }
            return fresh;
        }
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

    private static Tensor[] copies(Tensor[] inputs) {
        Tensor[] out = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) out[i] = inputs[i] == null ? null : inputs[i].copy();
        return out;
    }

    private static boolean sameContent(Tensor kept, Tensor now) {
        if (kept == null || now == null) return kept == now;
        if (kept.dtype() != now.dtype() || !Arrays.equals(kept.shape(), now.shape())) return false;
        long bytes = now.dtype().byteSize(now.numel());
        return MemorySegment.mismatch(kept.data(), 0, bytes, now.data(), 0, bytes) == -1;
    }
}
