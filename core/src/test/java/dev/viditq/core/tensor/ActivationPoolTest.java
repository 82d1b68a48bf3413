package dev.viditq.core.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

class ActivationPoolTest {
    @Test
    void sizeClassesRoundUpByAtMostAnEighth() {
        for (long bytes : new long[]{ActivationPool.MIN_POOLED, 300_001, 512L * 1152 * 4, 512L * 4608 * 4 + 4, 1L << 30, (1L << 30) + 1}) {
            long c = ActivationPool.sizeClass(bytes);
            assertTrue(c >= bytes, bytes + " -> " + c);
            assertTrue(c <= bytes + bytes / 8 + 4096, bytes + " -> " + c);
            assertEquals(c, ActivationPool.sizeClass(c), "a class is its own class");
        }
    }

    @Test
    void segmentsHaveTheExactSizeAreAlignedAndZeroedWhenAsked() {
        for (long bytes : new long[]{12, 4096, 300_004, 2_400_000}) {
            MemorySegment dirty = ActivationPool.allocate(bytes, false);
            dirty.fill((byte) 7);
            MemorySegment s = ActivationPool.allocate(bytes, true);
            assertEquals(bytes, s.byteSize());
            assertEquals(0, s.address() % ActivationPool.ALIGNMENT);
            for (long i = 0; i < bytes; i += 997) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            assertEquals(0, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
        }
        Tensor t = Tensor.allocate(DType.F32, true, 3, 100_000);
        assertEquals(1_200_000, t.byteSize());
        assertEquals(0f, t.getFloat(299_999));
    }

    @Test
    void collectedSegmentsAreReusedAndLiveOnesNeverShared() throws InterruptedException {
        long bytes = 3_000_000;
        MemorySegment live = ActivationPool.allocate(bytes, false);
        live.fill((byte) 1);
        long address = 0;
        for (int i = 0; i < 50 && address == 0; i++) {
            MemorySegment garbage = ActivationPool.allocate(bytes, false);
            assertNotEquals(live.address(), garbage.address(), "a live segment's block is never handed out again");
            long a = garbage.address();
            garbage = null;
            System.gc();
            Thread.sleep(20);
            MemorySegment again = ActivationPool.allocate(bytes, false);
            if (again.address() == a) address = a;
        }
        assertNotEquals(0, address, "a collected segment's block came back");
        assertEquals(1, live.get(ValueLayout.JAVA_BYTE, bytes - 1), "the live segment kept its contents");
    }

    @Test
    void aScopeReturnsWhatItsThreadTookWhenItCloses() {
        long bytes = 5_000_000; // a size class no other test of this class uses
        MemorySegment outside = ActivationPool.allocate(bytes, false);
        outside.fill((byte) 3);
        long inside;
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            MemorySegment s = ActivationPool.allocate(bytes, false);
            assertNotEquals(outside.address(), s.address());
            inside = s.address();
        }
        MemorySegment next = ActivationPool.allocate(bytes, false);
        assertEquals(inside, next.address(), "the scope's block is handed out again at once, without a collection");
        assertNotEquals(outside.address(), next.address(), "memory taken before the scope stays with its owner");
        assertEquals(3, outside.get(ValueLayout.JAVA_BYTE, bytes - 1));
    }

    @Test
    void scopesNestAndMustCloseInReverseOrder() {
        long bytes = 6_000_000;
        ActivationPool.Scope outer = ActivationPool.openScope();
        MemorySegment a = ActivationPool.allocate(bytes, false);
        long b;
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            b = ActivationPool.allocate(bytes, false).address();
        }
        assertEquals(b, ActivationPool.allocate(bytes, false).address(), "the inner scope returned its block");
        assertNotEquals(a.address(), b, "the outer scope's block is still out");
        ActivationPool.Scope inner = ActivationPool.openScope();
        assertThrows(IllegalStateException.class, outer::close, "closing the outer scope first is refused");
        inner.close();
        outer.close();
    }

    @Test
    void poisonedScopesFillReturnedMemoryWithNaN() {
        // the build runs tests with -Dviditq.activationPool.poison=true (see the root pom); without it this is moot
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("viditq.activationPool.poison"),
                "viditq.activationPool.poison is not set");
        MemorySegment escaped;
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            escaped = ActivationPool.allocate(7_000_000, true);
        }
        assertTrue(Float.isNaN(escaped.get(Tensor.F32_LE, 4 * 1000)), "a tensor read after its scope closed reads NaN");
    }

    /**
     * A scope whose working set exceeds the budget (a video model's transformer block): everything it holds is live,
     * so it asks for no collection, and its blocks are all kept when it closes, for the next block to take.
     */
    @Test
    void aScopeLargerThanTheBudgetAsksForNoCollectionAndItsBlocksAreKept() {
        long bytes = 64L << 20;
        int n = (int) (ActivationPool.budget(bytes) / bytes) + 2;
        for (int round = 0; round < 2; round++) {
            long created = ActivationPool.blocksCreated(), collections = ActivationPool.collectionsRequested();
            try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
                for (int i = 0; i < n; i++) ActivationPool.allocate(bytes, false);
            }
            assertEquals(collections, ActivationPool.collectionsRequested(), "round " + round + ": no collection for memory a scope holds");
            if (round == 1) assertEquals(created, ActivationPool.blocksCreated(), "the second scope took the first one's blocks");
        }
    }

    @Test
    void aBlockReturnedByItsScopeIsNotReturnedAgainByTheCollector() throws InterruptedException {
        long bytes = 8_000_000;
        long first;
        try (ActivationPool.Scope ignored = ActivationPool.openScope()) {
            first = ActivationPool.allocate(bytes, false).address();
        }
        // the view above is garbage now: when its cleaner runs it must not put the block on the free list a second
        // time, or two live segments would share it
        System.gc();
        Thread.sleep(50);
        MemorySegment x = ActivationPool.allocate(bytes, false);
        MemorySegment y = ActivationPool.allocate(bytes, false);
        assertEquals(first, x.address());
        assertNotEquals(x.address(), y.address(), "one block, one live segment");
    }
}
