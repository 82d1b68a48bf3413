package dev.viditq.core.parallel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The one thread pool of the process. Kernels split work into coarse chunks (one per thread or a few) so that
 * the fork/join overhead stays far below the work. The thread count comes from {@code -Dviditq.threads}
 * (default: available processors) and can be changed for benchmarks.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(Integer.getInteger("viditq.threads",
            Runtime.getRuntime().availableProcessors()));

    private Parallel() {}

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Replaces the pool (benchmarks measure 1 and 2 threads in one run). */
    public static synchronized void setThreads(int threads) {
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    /**
     * Runs {@code body(i)} for i in [0, n), i.e. each index once, spread over the pool's threads; indices are
     * handed out dynamically so uneven chunks balance. Runs inline when n == 1 or one thread is configured.
     */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        int t = Math.min(threads(), n);
        if (t == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < n; ) body.accept(i);
        };
        pool.submit(() -> IntStream.range(0, t).parallel().forEach(w -> worker.run())).join();
    }
}
