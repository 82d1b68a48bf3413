package dev.viditq.cli;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What cluster tasks load (models, pipelines, prepared sensitivity runs), kept per worker process for the next task
 * with the same key. A task has its resource to itself while it runs (calibration installs observers on the model,
 * sensitivity swaps executors), so tasks running at the same time in one process each get their own copy; weights are
 * memory-mapped, so copies share their pages.
 */
public final class WorkerPool {
    private static final Map<String, Deque<AutoCloseable>> IDLE = new ConcurrentHashMap<>();

    private WorkerPool() {}

    /**
     * Runs {@code work} on an idle resource of {@code key} (opened with {@code open} when none is idle) and keeps it for the
     * next task; a resource whose task failed is closed, as its state is unknown.
     */
    public static <R extends AutoCloseable, T> T with(String key, Supplier<R> open, Function<R, T> work) {
        R r = take(key);
        if (r == null) r = open.get();
        T result;
        try {
            result = work.apply(r);
        } catch (RuntimeException | Error e) {
            closeQuietly(r);
            throw e;
        }
        offer(key, r);
        return result;
    }

    /** Hands an already open resource to later tasks with this key (the driver's own copy in local mode). */
    public static void offer(String key, AutoCloseable r) {
        Deque<AutoCloseable> q = IDLE.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (q) {
            q.push(r);
        }
    }

    @SuppressWarnings("unchecked")
    private static <R> R take(String key) {
        Deque<AutoCloseable> q = IDLE.get(key);
        if (q == null) return null;
        synchronized (q) {
            return (R) q.poll();
        }
    }

    /** Closes every idle resource (a command's end in local mode). */
    public static void closeAll() {
        for (Deque<AutoCloseable> q : IDLE.values()) {
            synchronized (q) {
                for (AutoCloseable r; (r = q.poll()) != null; ) closeQuietly(r);
            }
        }
        IDLE.clear();
    }

    private static void closeQuietly(AutoCloseable r) {
        try {
            r.close();
        } catch (Exception ignored) {
            // a resource that cannot close is dropped all the same
        }
    }
}
