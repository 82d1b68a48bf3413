package dev.viditq.core.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backing (what a GPU run installs) supplies every block, small ones too, and zeroes them itself. */
class ActivationPoolBackingTest {
    /** Host memory standing in for device memory, recording what the pool asks of it. */
    private static final class RecordingBacking implements ActivationPool.Backing {
        final List<MemorySegment> blocks = new ArrayList<>();
        int zeroed;

        @Override
        public MemorySegment allocate(long bytes) {
            MemorySegment s = Arena.ofShared().allocate(bytes, ActivationPool.ALIGNMENT);
            s.fill((byte) 9); // dirty, as fresh device memory may be
            blocks.add(s);
            return s;
        }

        @Override
        public void free(MemorySegment block) {
            blocks.removeIf(b -> b.address() == block.address());
        }

        @Override
        public void zero(MemorySegment segment) {
            zeroed++;
            segment.fill((byte) 0);
        }

        boolean owns(MemorySegment s) {
            return blocks.stream().anyMatch(b -> s.address() >= b.address() && s.address() + s.byteSize() <= b.address() + b.byteSize());
        }
    }

    @AfterEach
    void hostAgain() {
        ActivationPool.useBacking(null);
    }

    @Test
    void everyRequestComesFromTheBackingWhichZeroes() {
        RecordingBacking backing = new RecordingBacking();
        ActivationPool.useBacking(backing);
        for (long bytes : new long[]{4, 1000, 300_004, 2_400_000}) {
            MemorySegment s = ActivationPool.allocate(bytes, true);
            assertEquals(bytes, s.byteSize());
            assertTrue(backing.owns(s), bytes + " bytes from the backing");
            for (long i = 0; i < bytes; i++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "zeroed at " + i);
        }
        assertEquals(4, backing.zeroed, "zeroing is the backing's");
        MemorySegment dirty = ActivationPool.allocate(5000, false);
        assertTrue(backing.owns(dirty));
        assertEquals(4, backing.zeroed, "not zeroed unless asked");
    }

    @Test
    void afterTheBackingIsRemovedMemoryIsTheHostsAgain() {
        RecordingBacking backing = new RecordingBacking();
        ActivationPool.useBacking(backing);
        ActivationPool.allocate(300_000, false);
        ActivationPool.useBacking(null);
        MemorySegment s = ActivationPool.allocate(300_000, true);
        assertTrue(!backing.owns(s), "a host block, not the backing's");
    }
}
