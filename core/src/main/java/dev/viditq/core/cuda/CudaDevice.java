package dev.viditq.core.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * GPU 0 through the CUDA driver API, bound with FFM: its primary context (made current on every thread that calls
 * in), one stream every launch and copy goes to, device and managed memory, and viditq's kernel module loaded from
 * the committed fatbin. {@link #get()} opens it once; when no driver or GPU is there it is empty and
 * {@link #unavailableReason()} says why.
 */
public final class CudaDevice {
    private static final int ATTR_CC_MAJOR = 75, ATTR_CC_MINOR = 76, ATTR_SM_COUNT = 16, ATTR_CONCURRENT_MANAGED = 89;
    private static final int MEM_ATTACH_GLOBAL = 1;
    static final String FATBIN = "/dev/viditq/core/cuda/viditq_kernels.fatbin";

    private static volatile Optional<CudaDevice> instance;
    private static volatile String reason = "not probed";

    private final MethodHandle cuCtxSetCurrent, cuMemAlloc, cuMemAllocManaged, cuMemFree, cuMemcpyAsync, cuMemsetD8Async,
            cuStreamSynchronize, cuLaunchKernel, cuMemGetInfo, cuModuleGetFunction, cuGetErrorName;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final String name;
    private final int ccMajor, ccMinor, smCount, driverVersion;
    private final long totalMemory;
    private final boolean concurrentManagedAccess;

    private CudaDevice(CudaLibraries.Loaded driver) {
        MethodHandle cuInit = driver.function("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuGetErrorName = driver.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        check(call(cuInit, 0), "cuInit");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment i = a.allocate(JAVA_INT);
            check(call(driver.function("cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS)), i), "cuDriverGetVersion");
            driverVersion = i.get(JAVA_INT, 0);
            check(call(driver.function("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS)), i), "cuDeviceGetCount");
            if (i.get(JAVA_INT, 0) < 1) throw new CudaException("the driver sees no CUDA device");
            check(call(driver.function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)), i, 0), "cuDeviceGet");
            int dev = i.get(JAVA_INT, 0);
            MemorySegment text = a.allocate(256);
            check(call(driver.function("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)), text, 256, dev), "cuDeviceGetName");
            name = text.getString(0);
            MethodHandle attr = driver.function("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
            ccMajor = attribute(attr, i, ATTR_CC_MAJOR, dev);
            ccMinor = attribute(attr, i, ATTR_CC_MINOR, dev);
            smCount = attribute(attr, i, ATTR_SM_COUNT, dev);
            concurrentManagedAccess = attribute(attr, i, ATTR_CONCURRENT_MANAGED, dev) != 0;
            MemorySegment l = a.allocate(JAVA_LONG);
            check(call(driver.function("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)), l, dev), "cuDeviceTotalMem");
            totalMemory = l.get(JAVA_LONG, 0);
            MemorySegment p = a.allocate(ADDRESS);
            check(call(driver.function("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)), p, dev), "cuDevicePrimaryCtxRetain");
            context = p.get(ADDRESS, 0);
            cuCtxSetCurrent = driver.function("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            makeCurrent();
            check(call(driver.function("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)), p, 1), "cuStreamCreate");
            stream = p.get(ADDRESS, 0);
            module = loadModule(driver, p);
        }
        cuMemAlloc = driver.function("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemAllocManaged = driver.function("cuMemAllocManaged", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        cuMemFree = driver.function("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        cuMemcpyAsync = driver.function("cuMemcpyAsync", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8Async = driver.function("cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        cuStreamSynchronize = driver.function("cuStreamSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuLaunchKernel = driver.function("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuMemGetInfo = driver.function("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = driver.function("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    private MemorySegment loadModule(CudaLibraries.Loaded driver, MemorySegment p) {
        byte[] image;
        try (InputStream in = CudaDevice.class.getResourceAsStream(FATBIN)) {
            if (in == null) throw new CudaException("the kernel fatbin " + FATBIN + " is missing from the jar");
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read " + FATBIN + ": " + e.getMessage());
        }
        MemorySegment data = Arena.global().allocate(image.length + 1L, 16);
        MemorySegment.copy(image, 0, data, JAVA_BYTE, 0, image.length);
        check(call(driver.function("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)), p, data),
                "cuModuleLoadData (viditq kernels for sm_80/89/90 + PTX; this GPU is sm_" + ccMajor + ccMinor + ")");
        return p.get(ADDRESS, 0);
    }

    /** GPU 0, opened once; empty when the driver, a GPU or the kernels are missing ({@link #unavailableReason()}). */
    public static Optional<CudaDevice> get() {
        Optional<CudaDevice> d = instance;
        if (d == null) {
            synchronized (CudaDevice.class) {
                if (instance == null) instance = open();
                d = instance;
            }
        }
        return d;
    }

    /** Why {@link #get()} is empty. */
    public static String unavailableReason() {
        get();
        return reason;
    }

    private static Optional<CudaDevice> open() {
        if ("false".equals(System.getProperty("viditq.cuda"))) {
            reason = "disabled by -Dviditq.cuda=false";
            return Optional.empty();
        }
        List<String> tried = new ArrayList<>();
        Optional<CudaLibraries.Loaded> driver = CudaLibraries.load(CudaLibraries.DRIVER, tried);
        if (driver.isEmpty()) {
            reason = "no NVIDIA driver library (" + String.join(", ", tried) + " not found)";
            return Optional.empty();
        }
        try {
            CudaDevice device = new CudaDevice(driver.get());
            reason = null;
            return Optional.of(device);
        } catch (CudaException e) {
            reason = e.getMessage();
            return Optional.empty();
        }
    }

    public String name() { return name; }
    public int computeCapability() { return ccMajor * 10 + ccMinor; }
    public int smCount() { return smCount; }
    public long totalMemory() { return totalMemory; }
    public boolean concurrentManagedAccess() { return concurrentManagedAccess; }

    /** e.g. "13.0". */
    public String driverVersion() {
        return driverVersion / 1000 + "." + (driverVersion % 1000) / 10;
    }

    MemorySegment stream() { return stream; }

    /** The context is per thread in the driver API: every entry point calls this first. */
    void makeCurrent() {
        if (!current.get()) {
            check(call(cuCtxSetCurrent, context), "cuCtxSetCurrent");
            current.set(true);
        }
    }

    /** Device memory (not host-visible); freed with {@link #free}. */
    public long allocate(long bytes) {
        return alloc(bytes, false);
    }

    /**
     * Managed (unified) memory: one address for host and GPU, pages migrating on demand. Activations live here, so
     * the model code reads and writes them as host memory while the kernels run on the same bytes.
     */
    public long allocateManaged(long bytes) {
        return alloc(bytes, true);
    }

    private long alloc(long bytes, boolean managed) {
        makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            int status = managed ? call(cuMemAllocManaged, p, Math.max(bytes, 1), MEM_ATTACH_GLOBAL) : call(cuMemAlloc, p, Math.max(bytes, 1));
            check(status, (managed ? "cuMemAllocManaged(" : "cuMemAlloc(") + bytes + " bytes; " + describeMemory() + ")");
            return p.get(JAVA_LONG, 0);
        }
    }

    public void free(long ptr) {
        if (ptr == 0) return;
        makeCurrent();
        check(call(cuMemFree, ptr), "cuMemFree");
    }

    /** Copies {@code bytes} between any two addresses (unified addressing: host, device or managed), on the stream. */
    public void copy(long dst, long src, long bytes) {
        if (bytes == 0) return;
        makeCurrent();
        int status;
        try {
            status = (int) cuMemcpyAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw new CudaException("cuMemcpyAsync: " + t);
        }
        check(status, "cuMemcpyAsync");
    }

    /** Zeroes device or managed memory on the GPU (a host fill would migrate every page to the host). */
    public void zero(long ptr, long bytes) {
        if (bytes == 0) return;
        makeCurrent();
        check(call(cuMemsetD8Async, ptr, (byte) 0, bytes, stream), "cuMemsetD8Async");
    }

    /** Waits until everything queued on the stream has run; kernel faults surface here. */
    public void synchronize() {
        makeCurrent();
        int status;
        try {
            status = (int) cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw new CudaException("cuStreamSynchronize: " + t);
        }
        check(status, "cuStreamSynchronize (a kernel failed)");
    }

    /** {free, total} bytes of device memory as the driver counts them. */
    public long[] memoryInfo() {
        makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            check(call(cuMemGetInfo, f, t), "cuMemGetInfo");
            return new long[]{f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    private String describeMemory() {
        try {
            long[] m = memoryInfo();
            return (m[0] >> 20) + " MiB free of " + (m[1] >> 20) + " MiB";
        } catch (CudaException e) {
            return "memory unknown";
        }
    }

    /**
     * Launches kernel {@code name} of the viditq module on the stream. Arguments: Long/Integer/Float values, and
     * device addresses as Long. Asynchronous: {@link #synchronize()} before reading results.
     */
    public void launch(String name, int gridX, int blockX, int sharedBytes, Object... args) {
        launch(name, gridX, 1, blockX, sharedBytes, args);
    }

    public void launch(String name, int gridX, int gridY, int blockX, int sharedBytes, Object... args) {
        makeCurrent();
        MemorySegment f = function(name);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ADDRESS, args.length);
            for (int i = 0; i < args.length; i++) {
                MemorySegment v = switch (args[i]) {
                    case Long l -> a.allocateFrom(JAVA_LONG, l);
                    case Integer n -> a.allocateFrom(JAVA_INT, n);
                    case Float x -> a.allocateFrom(ValueLayout.JAVA_FLOAT, x);
                    default -> throw new IllegalArgumentException(name + ": argument " + i + " is a " + args[i].getClass().getSimpleName());
                };
                params.setAtIndex(ADDRESS, i, v);
            }
            int status;
            try {
                status = (int) cuLaunchKernel.invokeExact(f, gridX, gridY, 1, blockX, 1, 1, sharedBytes, stream, params, MemorySegment.NULL);
            } catch (Throwable t) {
                throw new CudaException("cuLaunchKernel " + name + ": " + t);
            }
            check(status, "cuLaunchKernel " + name);
        }
    }

    private synchronized MemorySegment function(String name) {
        MemorySegment f = functions.get(name);
        if (f == null) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ADDRESS);
                check(call(cuModuleGetFunction, p, module, a.allocateFrom(name)), "cuModuleGetFunction " + name);
                f = p.get(ADDRESS, 0);
            }
            functions.put(name, f);
        }
        return f;
    }

    void check(int status, String what) {
        if (status != 0) throw new CudaException(what + " failed: " + errorName(status) + " (" + status + ")");
    }

    private String errorName(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if (call(cuGetErrorName, status, p) != 0) return "CUDA error";
            return p.get(ADDRESS, 0).reinterpret(128).getString(0);
        }
    }

    private int attribute(MethodHandle attr, MemorySegment out, int which, int dev) {
        check(call(attr, out, which, dev), "cuDeviceGetAttribute " + which);
        return out.get(JAVA_INT, 0);
    }

    static int call(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new CudaException("native call failed: " + t);
        }
    }

    @Override
    public String toString() {
        return name + " (sm_" + ccMajor + ccMinor + ", " + smCount + " SMs, " + (totalMemory >> 30) + " GiB, driver " + driverVersion() + ")";
    }
}
