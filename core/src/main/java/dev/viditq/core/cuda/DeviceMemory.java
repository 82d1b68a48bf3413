package dev.viditq.core.cuda;

import dev.viditq.core.tensor.ActivationPool;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The device memory a GPU run holds: managed blocks of the activation pool (host- and device-addressable), device
 * copies of weights, and staging for host buffers a kernel call is handed (small ones: biases, modulation vectors,
 * the input latent). Knows which addresses are the GPU's, so a kernel call copies only what is not.
 */
public final class DeviceMemory implements ActivationPool.Backing {
    private final CudaDevice device;
    /** base address → size of every managed block handed out. */
    private final Map<Long, Long> managed = new ConcurrentSkipListMap<>();
    private final AtomicLong managedBytes = new AtomicLong();
    private final AtomicLong managedPeak = new AtomicLong();
    private final AtomicLong weightBytes = new AtomicLong();
    private final List<long[]> stagingChunks = new ArrayList<>(); // {address, capacity}
    private final Map<String, long[]> scratch = new java.util.HashMap<>(); // slot → {address, capacity}
    private int stagingChunk;
    private long stagingUsed;

    public DeviceMemory(CudaDevice device) {
        this.device = device;
    }

    @Override
    public MemorySegment allocate(long bytes) {
        long ptr = device.allocateManaged(bytes);
        managed.put(ptr, bytes);
        managedPeak.accumulateAndGet(managedBytes.addAndGet(bytes), Math::max);
        return MemorySegment.ofAddress(ptr).reinterpret(bytes);
    }

    @Override
    public void free(MemorySegment block) {
        Long size = managed.remove(block.address());
        if (size == null) throw new IllegalArgumentException("not a managed block: " + block);
        managedBytes.addAndGet(-size);
        device.free(block.address());
    }

    /** Zeroes on the GPU and waits: the caller may write the memory from the host right after. */
    @Override
    public void zero(MemorySegment segment) {
        device.zero(segment.address(), segment.byteSize());
        device.synchronize();
    }

    /** True when the GPU can address all of {@code segment} (it lies inside one managed block). */
    public boolean isDevice(MemorySegment segment) {
        if (segment.byteSize() == 0) return true;
        var floor = ((ConcurrentSkipListMap<Long, Long>) managed).floorEntry(segment.address());
        return floor != null && segment.address() + segment.byteSize() <= floor.getKey() + floor.getValue();
    }

    /** Bytes of managed activation blocks now, and at most. */
    public long managedBytes() { return managedBytes.get(); }
    public long managedPeak() { return managedPeak.get(); }

    /** Device bytes of resident weights (and constant tables: positional embeddings, Hadamard matrices). */
    public long weightBytes() { return weightBytes.get(); }

    /**
     * Device memory for weights (never freed before the run ends: weights live as long as the model), counted in
     * {@link #weightBytes()}.
     */
    public long residentWeight(long bytes) {
        weightBytes.addAndGet(bytes);
        return device.allocate(bytes);
    }

    /** Starts a kernel call's staging: everything staged by the previous call is done (its call synchronized). */
    synchronized void resetStaging() {
        stagingChunk = 0;
        stagingUsed = 0;
    }

    /** {@code bytes} of device scratch valid until the next {@link #resetStaging()}, 256-byte aligned. */
    synchronized long stage(long bytes) {
        long need = (bytes + 255) & ~255L;
        while (stagingChunk < stagingChunks.size()) {
            long[] c = stagingChunks.get(stagingChunk);
            if (stagingUsed + need <= c[1]) {
                long p = c[0] + stagingUsed;
                stagingUsed += need;
                return p;
            }
            stagingChunk++;
            stagingUsed = 0;
        }
        long capacity = Math.max(need, 16L << 20);
        stagingChunks.add(new long[]{device.allocate(capacity), capacity});
        stagingChunk = stagingChunks.size() - 1;
        stagingUsed = need;
        return stagingChunks.get(stagingChunk)[0];
    }

    /**
     * A grow-only device buffer of at least {@code bytes} for one use within a kernel call (scores, BF16 copies of
     * activations); its contents do not survive the next call that asks for the same slot.
     */
    synchronized long scratch(String slot, long bytes) {
        long[] s = scratch.get(slot);
        if (s == null || s[1] < bytes) {
            if (s != null) device.free(s[0]);
            long capacity = Math.max(bytes, 1L << 20);
            s = new long[]{device.allocate(capacity), capacity};
            scratch.put(slot, s);
        }
        return s[0];
    }

    /** Bytes of scratch and staging buffers. */
    public synchronized long scratchBytes() {
        long sum = 0;
        for (long[] s : scratch.values()) sum += s[1];
        for (long[] c : stagingChunks) sum += c[1];
        return sum;
    }
}
