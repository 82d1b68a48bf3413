package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.viditq.nn.layers.PatchEmbedTest.random;
import static org.junit.jupiter.api.Assertions.*;

class CaptionMemoTest {
    private static final int DIM = AttentionTest.DIM;

    /** Runs the float GEMM and counts its calls; its reuse key is whatever {@link #key} holds (null: no promise). */
    private static final class Counting implements Linear.Executor {
        private final Linear.Executor inner;
        final AtomicInteger calls = new AtomicInteger();
        Object key = "float";

        Counting(Linear.Executor inner) {
            this.inner = inner;
        }

        @Override
        public void forward(Linear layer, Tensor x2d, Tensor out2d) {
            calls.incrementAndGet();
            inner.forward(layer, x2d, out2d);
        }

        @Override
        public Object reuseKey() {
            return key;
        }
    }

    private static Counting counted(Linear layer) {
        Counting c = new Counting(layer.executor());
        layer.setExecutor(c);
        return c;
    }

    private static Tensor embed(CaptionMemo memo, Linear layer, Tensor caption) {
        return memo.embed(caption, null, caption.size(0), List.of(layer), () -> layer.forward(caption));
    }

    @Test
    void theSameContentGivesTheSameEmbeddingAndOtherContentANewOne() {
        Random rnd = new Random(1);
        Linear layer = new Linear("embedder", random(rnd, DIM, DIM), null);
        Counting count = counted(layer);
        CaptionMemo memo = new CaptionMemo();
        Tensor first = random(rnd, 2, 5, DIM);

        Tensor a = embed(memo, layer, first);
        Tensor again = embed(memo, layer, first.copy());   // another tensor, same contents
        assertSame(a, again);
        assertEquals(1, count.calls.get());
        long generation = CaptionMemo.generation(a);
        assertTrue(generation > 0);

        Tensor changed = first.copy();
        changed.setFloat(37, changed.getFloat(37) + 1);
        Tensor b = embed(memo, layer, changed);
        assertNotSame(a, b);
        assertNotEquals(generation, CaptionMemo.generation(b));
        assertSame(a, embed(memo, layer, first), "two captions are kept (guidance as two passes alternates them)");
        assertEquals(2, count.calls.get());

        Tensor third = random(rnd, 2, 5, DIM);
        embed(memo, layer, third);                          // evicts the least recently used: b
        assertFalse(CaptionMemo.kept(CaptionMemo.generation(b)));
        assertEquals(0, CaptionMemo.generation(b));
        assertTrue(CaptionMemo.kept(generation));
        assertEquals(0, CaptionMemo.generation(first), "a caller's own tensor has no generation");
    }

    @Test
    void aLayerThatPromisesNothingIsCalledEveryTime() {
        Random rnd = new Random(2);
        Linear layer = new Linear("embedder", random(rnd, DIM, DIM), null);
        Counting observer = counted(layer);
        observer.key = null;                               // as a calibration observer, which records every call
        CaptionMemo memo = new CaptionMemo();
        Tensor caption = random(rnd, 1, 4, DIM);
        Tensor a = embed(memo, layer, caption), b = embed(memo, layer, caption);
        assertNotSame(a, b);
        assertEquals(2, observer.calls.get());
        assertEquals(0, CaptionMemo.generation(a));
    }

    @Test
    void aChangedArithmeticEmbedsAgain() {
        Random rnd = new Random(3);
        Linear layer = new Linear("embedder", random(rnd, DIM, DIM), null);
        Counting count = counted(layer);
        CaptionMemo memo = new CaptionMemo();
        Tensor caption = random(rnd, 1, 4, DIM);
        Tensor a = embed(memo, layer, caption);
        count.key = "another step's precision";
        assertNotSame(a, embed(memo, layer, caption));
        assertEquals(2, count.calls.get());
    }

    @Test
    void crossAttentionProjectsAMemoizedCaptionOnceAndGivesTheSameBits() {
        Random rnd = new Random(4);
        CrossAttention ca = AttentionTest.cross(rnd);
        Counting kv = counted(ca.linears().get(1));
        Linear embedder = new Linear("embedder", random(rnd, DIM, DIM), null);
        CaptionMemo memo = new CaptionMemo();
        Tensor x = random(rnd, 2 * 6, DIM), raw = random(rnd, 2, 5, DIM);
        Tensor mask = Tensor.of(new float[]{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 2, 5);

        Tensor fresh = ca.forward(x, 2, embedder.forward(raw), CaptionMask.dropMasked(mask, 5));   // no memo
        assertEquals(1, kv.calls.get());
        Tensor first = ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        Tensor second = ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        assertEquals(2, kv.calls.get(), "projected once for the memoized caption");
        assertArrayEquals(fresh.toFloatArray(), first.toFloatArray(), 0f);
        assertArrayEquals(fresh.toFloatArray(), second.toFloatArray(), 0f);

        kv.key = "another step's precision";
        ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        assertEquals(3, kv.calls.get(), "another arithmetic projects again");
        kv.key = null;
        ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        ca.forward(x, 2, embed(memo, embedder, raw), CaptionMask.dropMasked(mask, 5));
        assertEquals(5, kv.calls.get(), "an observer sees every call");
    }

    @Test
    void crossAttentionProjectsACallersOwnCaptionEveryTime() {
        Random rnd = new Random(5);
        CrossAttention ca = AttentionTest.cross(rnd);
        Counting kv = counted(ca.linears().get(1));
        Tensor x = random(rnd, 6, DIM), caption = random(rnd, 1, 5, DIM);
        Tensor a = ca.forward(x, 1, caption, CaptionMask.none());
        caption.setFloat(3, caption.getFloat(3) + 2);      // refilled in place: must be seen
        Tensor b = ca.forward(x, 1, caption, CaptionMask.none());
        assertEquals(2, kv.calls.get());
        assertFalse(java.util.Arrays.equals(a.toFloatArray(), b.toFloatArray()));
    }
}
