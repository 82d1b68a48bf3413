package dev.viditq.core.parallel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ParallelTest {
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads : new int[]{1, 2, 5}) {
            Parallel.setThreads(threads);
            for (int n : new int[]{0, 1, 2, 7, 1000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, n));
                Parallel.forEach(n, seen::incrementAndGet);
                for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
            }
        }
    }

    @Test
    @Timeout(10)
    void nestedForEachRunsInlineWithoutDeadlock() {
        Parallel.setThreads(2);
        AtomicInteger count = new AtomicInteger();
        Parallel.forEach(8, i -> Parallel.forEach(8, j -> Parallel.forEach(3, k -> count.incrementAndGet())));
        assertEquals(8 * 8 * 3, count.get());
    }

    @Test
    void aBodysExceptionReachesTheCaller() {
        Parallel.setThreads(3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forEach(100, i -> {
            if (i == 57) throw new IllegalStateException("boom at 57");
        }));
        assertEquals("boom at 57", rootMessage(e));
        // the pool still works afterwards
        AtomicInteger count = new AtomicInteger();
        Parallel.forEach(10, i -> count.incrementAndGet());
        assertEquals(10, count.get());
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getMessage() != null && !t.getMessage().startsWith("boom")) t = t.getCause();
        return t.getMessage();
    }
}
