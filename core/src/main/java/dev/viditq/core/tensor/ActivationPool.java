package dev.viditq.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

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
 * ({@link System#gc()}) rather than growing without bound. Only views a collection could return count: what open
 * scopes hold is live by their promise and comes back when they close. Free blocks beyond {@link #retainLimit} (the
 * most bytes ever out at once, which a scoped working set returns at every block's end for the next to take, plus
 * the budget for blocks of other sizes) are released. Requests below {@link #MIN_POOLED} bytes go straight to an
 * auto arena.
 *
 * <p>Waiting for the GC costs a full collection (~20 ms) about once per PixArt-XL step. Code whose temporaries
 * provably die at a known point (a transformer block that updates its residual stream in place) opens a
 * {@link Scope}: what the thread takes while it is open goes back when it closes, without a collection.
 *
 * <p>Thread-safe. Memory is not zeroed unless asked ({@code zero}): a caller that overwrites every element (a GEMM
 * output) skips the pass.
 */
public final class ActivationPool {
    /** Smaller requests are not worth a free list. */
    static final long MIN_POOLED = Long.getLong("viditq.activationPool.minBytes", 256 << 10); // tests: 1, to pool all
    private static final long BUDGET = Long.getLong("viditq.activationPool.bytes", 768L << 20);
    private static final boolean DISABLED = Boolean.getBoolean("viditq.activationPool.disabled");
    /**
     * Tests: memory returned by a {@link Scope} is filled with NaN first, so a tensor that wrongly outlives its
     * scope turns the results NaN instead of silently reading another layer's numbers.
     */
    private static final boolean POISON = Boolean.getBoolean("viditq.activationPool.poison");
    /** Alignment of every segment handed out: one cache line, so vector loads never split lines at row starts. */
    public static final long ALIGNMENT = 64;

    /**
     * Where blocks come from when not from the host: a GPU backend hands out memory both the host and the device
     * address (CUDA managed memory), so the model code and the device kernels work on the same activations.
     */
    public interface Backing {
        /** A block of {@code bytes}, aligned to at least {@link #ALIGNMENT}. */
        MemorySegment allocate(long bytes);

        void free(MemorySegment block);

        /** Zero-fills {@code segment} where the memory lives (a host fill would pull device pages back). */
        void zero(MemorySegment segment);
    }

    /** A pooled block; {@code backing} null: host memory of {@code arena}. */
    private record Block(MemorySegment memory, Arena arena, Backing backing, long size) {
        void free() {
            if (backing == null) arena.close();
            else backing.free(memory);
        }
    }

    /**
     * One hand-out of a block: returned once, either by the view's cleaner (the GC found the view unreachable) or by
     * the {@link Scope} it was taken in, whichever comes first.
     */
    private static final class Lease {
        final Block block;
        final boolean scoped;
        final AtomicBoolean returned = new AtomicBoolean();

        Lease(Block block, boolean scoped) {
            this.block = block;
            this.scoped = scoped;
        }

        void giveBack(MemorySegment poisonView) {
            if (!returned.compareAndSet(false, true)) return;
            if (poisonView != null) poisonView.fill((byte) 0xFF); // all-ones bytes: NaN floats
            if (scoped) ActivationPool.scoped.addAndGet(-block.size());
            release(block);
        }
    }

    /**
     * A region of code whose pooled allocations (made by the thread that opened it) are dead when it ends. Closing
     * it returns them to the pool at once. The caller's promise: no tensor allocated inside survives the scope
     * (results are written into memory allocated before it, as a block's residual stream is). Scopes nest.
     */
    public static final class Scope implements AutoCloseable {
        private final List<Lease> leases = new ArrayList<>();
        private final List<MemorySegment> views = new ArrayList<>();

        private Scope() {}

        @Override
        public void close() {
            ArrayDeque<Scope> open = OPEN.get();
            if (open.peekLast() != this) throw new IllegalStateException("activation scopes must close in reverse order");
            open.pollLast();
            for (int i = 0; i < leases.size(); i++) leases.get(i).giveBack(POISON ? views.get(i) : null);
            leases.clear();
            views.clear();
        }
    }

    private static final ThreadLocal<ArrayDeque<Scope>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);
    /** Marks, on top of the open scopes, code whose allocations outlive them ({@link #unscoped}). */
    private static final Scope UNSCOPED = new Scope();

    /** Opens a scope on this thread (use with try-with-resources). */
    public static Scope openScope() {
        Scope s = new Scope();
        OPEN.get().addLast(s);
        return s;
    }

    /**
     * Runs {@code make} so that what it allocates is returned by the GC only, never by an open scope: for memory kept
     * beyond the call that makes it (per-thread buffers, caches, accumulators created on first use).
     */
    public static <T> T unscoped(java.util.function.Supplier<T> make) {
        ArrayDeque<Scope> open = OPEN.get();
        open.addLast(UNSCOPED);
        try {
            return make.get();
        } finally {
            open.pollLast();
        }
    }

    private static volatile Backing backing;

    private static final Map<Long, ConcurrentLinkedDeque<Block>> FREE = new ConcurrentHashMap<>();
    /** Bytes of blocks whose views may still be reachable (live or garbage not yet collected). */
    private static final AtomicLong outstanding = new AtomicLong();
    /** Of those, the bytes handed out inside scopes that have not returned them: a collection cannot bring them back. */
    private static final AtomicLong scoped = new AtomicLong();
    /** The most bytes ever outstanding at once. */
    private static final AtomicLong peakOutstanding = new AtomicLong();
    /** Bytes of blocks on the free lists. */
    private static final AtomicLong pooled = new AtomicLong();
    private static final AtomicLong collections = new AtomicLong();
    private static final AtomicLong created = new AtomicLong();
    /** Wall time spent handing out memory: taking or creating blocks, zero-filling, and the collections asked for. */
    private static final LongAdder allocationNanos = new LongAdder();

    private ActivationPool() {}

    /** A segment of exactly {@code bytes}, 64-byte aligned, on pooled memory; zero-filled only when {@code zero}. */
    public static MemorySegment allocate(long bytes, boolean zero) {
        long t0 = System.nanoTime();
        try {
            return allocateTimed(bytes, zero);
        } finally {
            allocationNanos.add(System.nanoTime() - t0);
        }
    }

    /** Nanoseconds spent in {@link #allocate} so far, over all threads (benchmarks subtract two readings). */
    public static long allocationNanos() {
        return allocationNanos.sum();
    }

    private static MemorySegment allocateTimed(long bytes, boolean zero) {
        Backing device = backing;
        if (device == null && (DISABLED || bytes < MIN_POOLED)) {
            return Arena.ofAuto().allocate(Math.max(1, bytes), ALIGNMENT).asSlice(0, bytes);
        }
        long size = sizeClass(device == null ? bytes : Math.max(bytes, 4096));
        Scope scope = OPEN.get().peekLast();
        // device memory stays with the GC: a GPU stream may still be reading the block when the scope closes
        boolean inScope = scope != null && scope != UNSCOPED && device == null;
        Block b = take(size, device);
        if (b == null && collectable() + size > budget(size)) b = collectAndTake(size, device);
        if (b == null) b = newBlock(size, device);
        if (inScope) scoped.addAndGet(size);
        peakOutstanding.accumulateAndGet(outstanding.addAndGet(size), Math::max);
        Lease lease = new Lease(b, inScope);
        MemorySegment view = b.memory().reinterpret(bytes, Arena.ofAuto(), ignored -> lease.giveBack(null));
        if (inScope) {
            scope.leases.add(lease);
            scope.views.add(POISON ? view : null);
        }
        if (zero) {
            if (device == null) view.fill((byte) 0);
            else device.zero(view);
        }
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
        return budget(size) + peakOutstanding.get();
    }

    /** Outstanding bytes that a collection could return: not held by an open scope. */
    private static long collectable() {
        return outstanding.get() - scoped.get();
    }

    /** Requests round up to 1/8 steps between powers of two (at most 12.5% slack), so similar sizes share blocks. */
    static long sizeClass(long bytes) {
        if (bytes <= 4096) return 4096;
        int shift = 63 - Long.numberOfLeadingZeros(bytes - 1); // floor(log2(bytes - 1))
        long step = Math.max(4096, (1L << shift) >>> 3);
        return (bytes + step - 1) / step * step;
    }

    /** A free block of this class from {@code device} (null: the host); blocks of another backing are released. */
    private static Block take(long size, Backing device) {
        ConcurrentLinkedDeque<Block> list = FREE.get(size);
        while (list != null) {
            Block b = list.pollFirst();
            if (b == null) return null;
            pooled.addAndGet(-size);
            if (b.backing() == device) return b;
            b.free();
        }
        return null;
    }

    /**
     * From now on, blocks come from {@code device} (null: host memory again). Blocks handed out before keep their
     * memory and return to the free lists, where only requests of their own backing take them.
     */
    public static void useBacking(Backing device) {
        backing = device;
    }

    /** Runs a collection and waits briefly for the cleaners to hand blocks of this class back. */
    private static Block collectAndTake(long size, Backing device) {
        collections.incrementAndGet();
        System.gc();
        long deadline = System.nanoTime() + 20_000_000L;
        do {
            Block b = take(size, device);
            if (b != null) return b;
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        // what is still outstanding is (mostly) live: leave room for as much garbage again before the next collection
        long live = collectable();
        if (live + size > budget(size) / 2) adaptiveBudget.accumulateAndGet(2 * (live + size), Math::max);
        return null;
    }

    private static Block newBlock(long size, Backing device) {
        created.incrementAndGet();
        if (device != null) return new Block(device.allocate(size), null, device, size);
        Arena arena = Arena.ofShared();
        return new Block(arena.allocate(size, ALIGNMENT), arena, null, size);
    }

    /** Cleaner action of a view: the block goes back to its free list, or is released when enough are kept. */
    private static void release(Block b) {
        outstanding.addAndGet(-b.size());
        if (pooled.get() + b.size() > retainLimit(b.size())) {
            b.free();
            return;
        }
        pooled.addAndGet(b.size());
        FREE.computeIfAbsent(b.size(), k -> new ConcurrentLinkedDeque<>()).addFirst(b);
    }

    /** Blocks created so far (tests). */
    static long blocksCreated() {
        return created.get();
    }

    /** Collections asked for so far (tests). */
    static long collectionsRequested() {
        return collections.get();
    }

    /** Counters for benchmarks: blocks created, collections requested, bytes outstanding and pooled. */
    public static String stats() {
        return "activation pool: " + created.get() + " blocks created, " + collections.get() + " collections requested, "
                + (outstanding.get() >> 20) + " MiB outstanding (at most " + (peakOutstanding.get() >> 20) + "), "
                + (pooled.get() >> 20) + " MiB free";
    }
}
