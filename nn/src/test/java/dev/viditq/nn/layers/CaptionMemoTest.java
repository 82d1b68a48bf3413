package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.viditq.nn.layers.PatchEmbedTest.random;
import static org.junit.jupiter.api.Assertions.*;

class CaptionMemoTest {
    private static final int DIM = AttentionTest.DIM;

    private static Tensor embed(CaptionMemo memo, Linear layer, Tensor caption) {
        return memo.embed(List.of(layer), caption.size(0), () -> layer.forward(caption), caption, null);
    }

    /** A caption embedder whose calls are counted, and an empty memo. */
    private record Embedder(Random rnd, Linear layer, CountingExecutor count, CaptionMemo memo) {
        static Embedder seeded(long seed) {
            Random rnd = new Random(seed);
            Linear layer = new Linear("embedder", random(rnd, DIM, DIM), null);
            return new Embedder(rnd, layer, CountingExecutor.install(layer), new CaptionMemo());
        }
    }

    @Test
    void theSameContentGivesTheSameEmbeddingAndOtherContentANewOne() {
        Embedder e = Embedder.seeded(1);
        Random rnd = e.rnd();
        Linear layer = e.layer();
        CountingExecutor count = e.count();
        CaptionMemo memo = e.memo();
        Tensor first = random(rnd, 2, 5, DIM);

        Tensor a = embed(memo, layer, first);
        Tensor again = embed(memo, layer, first.copy());   // another tensor, same contents
        assertSame(a, again);
        assertEquals(1, count.calls());
        long generation = CaptionMemo.generation(a);
        assertTrue(generation > 0);

        Tensor changed = first.copy();
        changed.setFloat(37, changed.getFloat(37) + 1);
        Tensor b = embed(memo, layer, changed);
        assertNotSame(a, b);
        assertNotEquals(generation, CaptionMemo.generation(b));
        assertSame(a, embed(memo, layer, first), "two captions are kept (guidance as two passes alternates them)");
        assertEquals(2, count.calls());

        Tensor third = random(rnd, 2, 5, DIM);
        embed(memo, layer, third);                          // evicts the least recently used: b
        assertFalse(CaptionMemo.kept(CaptionMemo.generation(b)));
        assertEquals(0, CaptionMemo.generation(b));
        assertTrue(CaptionMemo.kept(generation));
        assertEquals(0, CaptionMemo.generation(first), "a caller's own tensor has no generation");
    }

    @Test
    void aLayerThatPromisesNothingIsCalledEveryTime() {
        Embedder e = Embedder.seeded(2);
        e.count().promise(null);                               // as a calibration observer, which records every call
        Tensor caption = random(e.rnd(), 1, 4, DIM);
        Tensor a = embed(e.memo(), e.layer(), caption), b = embed(e.memo(), e.layer(), caption);
        assertNotSame(a, b);
        assertEquals(2, e.count().calls());
        assertEquals(0, CaptionMemo.generation(a));
    }

    @Test
    void aChangedArithmeticEmbedsAgain() {
        Embedder e = Embedder.seeded(3);
        Tensor caption = random(e.rnd(), 1, 4, DIM);
        Tensor a = embed(e.memo(), e.layer(), caption);
        e.count().promise("another step's precision");
        assertNotSame(a, embed(e.memo(), e.layer(), caption));
        assertEquals(2, e.count().calls());
    }

    @Test
    void crossAttentionProjectsAMemoizedCaptionOnceAndGivesTheSameBits() {
        Random rnd = new Random(4);
        CrossAttention ca = AttentionTest.cross(rnd);
        CountingExecutor kv = CountingExecutor.install(ca.linears().get(1));
        Linear embedder = new Linear("embedder", random(rnd, DIM, DIM), null);
        CaptionMemo memo = new CaptionMemo();
        Tensor x = random(rnd, 2 * 6, DIM), raw = random(rnd, 2, 5, DIM);
        Tensor mask = Tensor.of(new float[]{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 2, 5);

        Tensor fresh = ca.forward(x, 2, embedder.forward(raw), CaptionMask.dropMasked(mask, 5));   // no memo
        assertEquals(1, kv.calls());
        Tensor first = ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        Tensor second = ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        assertEquals(2, kv.calls(), "projected once for the memoized caption");
        assertArrayEquals(fresh.toFloatArray(), first.toFloatArray(), 0f);
        assertArrayEquals(fresh.toFloatArray(), second.toFloatArray(), 0f);

        kv.promise("another step's precision");
        ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        assertEquals(3, kv.calls(), "another arithmetic projects again");
        kv.promise(null);
        ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        assertEquals(5, kv.calls(), "an observer sees every call");
    }

    @Test
    void crossAttentionProjectsACallersOwnCaptionEveryTime() {
        Random rnd = new Random(5);
        CrossAttention ca = AttentionTest.cross(rnd);
        CountingExecutor kv = CountingExecutor.install(ca.linears().get(1));
        Tensor x = random(rnd, 6, DIM), caption = random(rnd, 1, 5, DIM);
        Tensor a = ca.forward(x, 1, caption, CaptionMask.none());
        caption.setFloat(3, caption.getFloat(3) + 2);      // refilled in place: must be seen
        Tensor b = ca.forward(x, 1, caption, CaptionMask.none());
        assertEquals(2, kv.calls());
        assertFalse(java.util.Arrays.equals(a.toFloatArray(), b.toFloatArray()));
    }
}
