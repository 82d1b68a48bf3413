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
}
