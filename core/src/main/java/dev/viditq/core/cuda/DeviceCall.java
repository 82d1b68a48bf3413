package dev.viditq.core.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One kernel call of a device backend, from the caller's buffers to its results: each buffer the GPU cannot address
 * (host memory: a memory-mapped weight, a bias, a modulation vector) is staged into device scratch, outputs staged
 * so are copied back, and {@link #close()} waits for the stream, so the caller reads the results as it would a CPU
 * kernel's. Calls are serialised: staging is shared.
 */
public final class DeviceCall implements AutoCloseable {
    private static final ReentrantLock LOCK = new ReentrantLock();

    private final CudaDevice device;
    private final DeviceMemory memory;
    private final List<long[]> copyBack = new ArrayList<>(); // {host, device, bytes}

    public DeviceCall(CudaDevice device, DeviceMemory memory) {
        LOCK.lock();
        this.device = device;
        this.memory = memory;
        memory.resetStaging();
    }

    /** The device address of the first {@code bytes} of {@code s}, read by the kernels (null: 0). */
    public long in(MemorySegment s, long bytes) {
        if (s == null) return 0;
        MemorySegment span = s.asSlice(0, bytes);
        if (memory.isDevice(span)) return span.address();
        long p = memory.stage(bytes);
        device.copy(p, span.address(), bytes);
        return p;
    }

    /** As {@link #in}, and written: a staged copy goes back to the host at {@link #close()}. */
    public long inOut(MemorySegment s, long bytes) {
        long p = in(s, bytes);
        if (p != s.address()) copyBack.add(new long[]{s.address(), p, bytes});
        return p;
    }

    /** Written only: staged without uploading when the host holds it. */
    public long out(MemorySegment s, long bytes) {
        MemorySegment span = s.asSlice(0, bytes);
        if (memory.isDevice(span)) return span.address();
        long p = memory.stage(bytes);
        copyBack.add(new long[]{span.address(), p, bytes});
        return p;
    }

    /** Uploads host values (null: 0). */
    public long floats(float[] values) {
        if (values == null) return 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            long p = memory.stage(host.byteSize());
            device.copy(p, host.address(), host.byteSize()); // from pageable memory: returns once the source is read
            return p;
        }
    }

    public long ints(int[] values) {
        if (values == null) return 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocateFrom(ValueLayout.JAVA_INT, values);
            long p = memory.stage(host.byteSize());
            device.copy(p, host.address(), host.byteSize());
            return p;
        }
    }

    /** Device scratch for this call (see {@link DeviceMemory#scratch}). */
    public long scratch(String slot, long bytes) {
        return memory.scratch(slot, bytes);
    }

    public CudaDevice device() {
        return device;
    }

    /** Grid size for a grid-stride loop over {@code n} elements with blocks of 256. */
    public int grid(long n) {
        return (int) Math.max(1, Math.min((n + 255) / 256, (long) device.smCount() * 16));
    }

    @Override
    public void close() {
        try {
            for (long[] c : copyBack) device.copy(c[0], c[1], c[2]);
            device.synchronize();
        } finally {
            LOCK.unlock();
        }
    }
}
