package dev.viditq.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Native memory for large activations (layer outputs), recycled instead of freed. Why: a fresh
 * {@code Arena.ofAuto()} allocation of a few MB is mmap'ed, page-faulted in and zeroed, and unmapped again when the
 * GC frees it; on the project machine that ran at ~1 GB/s, i.e. ~0.3-1 s of every PixArt-XL 256 px step
 * (docs/BENCHMARKS.md, "Activations on recycled native memory"). Here a segment handed out is a view of a retained block; when the view becomes
 * unreachable (the same lifetime as an auto arena's segment: its cleaner runs after a GC) the block goes back to a
 * free list of its size class and is handed out again, its pages already resident.
 *
 * <p>Garbage blocks return only after a GC, and a model's heap allocates so little that GCs are rare; so when the
 * bytes held by live and not-yet-collected views exceed {@link #budget} this class asks for a collection itself
 * ({@link System#gc()}) rather than growing without bound. Free blocks beyond {@link #retainLimit} are released.
 * Requests below {@link #MIN_POOLED} bytes go straight to an auto arena.
 *
 * <p>Thread-safe. Memory is not zeroed unless asked ({@code zero}): a caller that overwrites every element (a GEMM
 * output) skips the pass.
 */
public final class ActivationPool {
    /** Smaller requests are not worth a free list. */
    static final long MIN_POOLED = 256 << 10;
    private static final long BUDGET = Long.getLong("viditq.activationPool.bytes", 768L << 20);
    private static final boolean DISABLED = Boolean.getBoolean("viditq.activationPool.disabled");
    /** Alignment of every segment handed out: one cache line, so vector loads never split lines at row starts. */
    public static final long ALIGNMENT = 64;

    private record Block(MemorySegment memory, Arena arena, long size) {}

    private static final Map<Long, ConcurrentLinkedDeque<Block>> FREE = new ConcurrentHashMap<>();
    /** Bytes of blocks whose views may still be reachable (live or garbage not yet collected). */
    private static final AtomicLong outstanding = new AtomicLong();
    /** Bytes of blocks on the free lists. */
    private static final AtomicLong pooled = new AtomicLong();
    private static final AtomicLong collections = new AtomicLong();
    private static final AtomicLong created = new AtomicLong();

    private ActivationPool() {}

    /** A segment of exactly {@code bytes}, 64-byte aligned, on pooled memory; zero-filled only when {@code zero}. */
    public static MemorySegment allocate(long bytes, boolean zero) {
        if (DISABLED || bytes < MIN_POOLED) {
            return Arena.ofAuto().allocate(Math.max(1, bytes), ALIGNMENT).asSlice(0, bytes);
        }
        long size = sizeClass(bytes);
        Block b = take(size);
        if (b == null && outstanding.get() + size > budget(size)) b = collectAndTake(size);
        if (b == null) b = newBlock(size);
        outstanding.addAndGet(size);
        Block block = b;
        MemorySegment view = b.memory().reinterpret(bytes, Arena.ofAuto(), ignored -> release(block));
        if (zero) view.fill((byte) 0);
        return view;
    }

    /** Raised when the live views alone come near the budget, so a large model does not collect on every call. */
    private static final AtomicLong adaptiveBudget = new AtomicLong(BUDGET);

    /** When live plus uncollected views exceed this, ask for a collection before creating another block. */
    static long budget(long size) {
        return Math.max(adaptiveBudget.get(), 8 * size);
    }

    /** Free blocks kept for reuse; beyond this, returned blocks are released to the system. */
    static long retainLimit(long size) {
        return budget(size);
    }

    /** Requests round up to 1/8 steps between powers of two (at most 12.5% slack), so similar sizes share blocks. */
    static long sizeClass(long bytes) {
        int shift = 63 - Long.numberOfLeadingZeros(bytes - 1); // floor(log2(bytes - 1))
        long step = Math.max(4096, (1L << shift) >>> 3);
        return (bytes + step - 1) / step * step;
    }

    private static Block take(long size) {
        ConcurrentLinkedDeque<Block> list = FREE.get(size);
        Block b = list == null ? null : list.pollFirst();
        if (b != null) pooled.addAndGet(-size);
        return b;
    }

    /** Runs a collection and waits briefly for the cleaners to hand blocks of this class back. */
    private static Block collectAndTake(long size) {
        collections.incrementAndGet();
        System.gc();
        long deadline = System.nanoTime() + 20_000_000L;
        do {
            Block b = take(size);
            if (b != null) return b;
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        // what is still outstanding is (mostly) live: leave room for as much garbage again before the next collection
        long live = outstanding.get();
        if (live + size > budget(size) / 2) adaptiveBudget.accumulateAndGet(2 * (live + size), Math::max);
        return null;
    }

    private static Block newBlock(long size) {
        Arena arena = Arena.ofShared();
        created.incrementAndGet();
        return new Block(arena.allocate(size, ALIGNMENT), arena, size);
    }

    /** Cleaner action of a view: the block goes back to its free list, or is released when enough are kept. */
    private static void release(Block b) {
        outstanding.addAndGet(-b.size());
        if (pooled.get() + b.size() > retainLimit(b.size())) {
            b.arena().close();
            return;
        }
        pooled.addAndGet(b.size());
        FREE.computeIfAbsent(b.size(), k -> new ConcurrentLinkedDeque<>()).addFirst(b);
    }

    /** Counters for benchmarks: blocks created, collections requested, bytes outstanding and pooled. */
    public static String stats() {
        return "activation pool: " + created.get() + " blocks created, " + collections.get() + " collections requested, "
                + (outstanding.get() >> 20) + " MiB outstanding, " + (pooled.get() >> 20) + " MiB free";
    }
}
