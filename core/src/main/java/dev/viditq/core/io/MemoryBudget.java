package dev.viditq.core.io;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.OperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * How much memory this JVM may use, so that inputs which cannot fit are refused with a message naming the limit
 * <em>before</em> anything is allocated, instead of ending in an OutOfMemoryError (or the kernel's OOM killer)
 * half-way through. Three limits matter:
 * <ul>
 *   <li>the heap ({@code -Xmx}, {@link Runtime#maxMemory()}): unpickled objects, small arrays;</li>
 *   <li>native memory ({@code -XX:MaxDirectMemorySize}, the heap's size when unset): every tensor this project
 *       allocates lives there (FFM allocations are counted against that limit), the launcher sets 3 GiB;</li>
 *   <li>physical memory: what memory-mapped weights need to stay resident.</li>
 * </ul>
 * The limits are read once; {@code -Dviditq.memoryLimit=BYTES} lowers every one of them (tests, and users who
 * share a machine).
 */
public final class MemoryBudget {
    private static volatile Limits limits;

    private MemoryBudget() {}

    private record Limits(long heap, long nativeMemory, long physical) {}

    private static Limits limits() {
        Limits l = limits;
        if (l == null) limits = l = read();
        return l;
    }

    private static Limits read() {
        long heap = Runtime.getRuntime().maxMemory();
        long direct = 0;
        try {
            String v = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("MaxDirectMemorySize").getValue();
            direct = Long.parseLong(v);
        } catch (RuntimeException ignored) {
            // not HotSpot: the default below is what the JDK itself assumes
        }
        if (direct <= 0) direct = heap; // the JDK's default for the direct memory limit
        long physical = Long.MAX_VALUE;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os && os.getTotalMemorySize() > 0) {
            physical = os.getTotalMemorySize(); // container-aware
        }
        long cap = Long.getLong("viditq.memoryLimit", Long.MAX_VALUE);
        return new Limits(Math.min(heap, cap), Math.min(direct, cap), Math.min(physical, cap));
    }

    /** The most heap this JVM may use. */
    public static long heapBytes() {
        return limits().heap();
    }

    /** The most native memory tensors may take: the direct-memory limit, at most the physical memory. */
    public static long tensorBytes() {
        return Math.min(limits().nativeMemory(), limits().physical());
    }

    /** Physical memory (of the container, when there is one). */
    public static long physicalBytes() {
        return limits().physical();
    }

    /** The three limits, for messages: "1.0 GiB heap (-Xmx), 3.0 GiB native (-XX:MaxDirectMemorySize), 23.5 GiB physical". */
    public static String describe() {
        Limits l = limits();
        return human(l.heap()) + " heap (-Xmx), " + human(l.nativeMemory()) + " native (-XX:MaxDirectMemorySize), "
                + human(l.physical()) + " physical";
    }

    /** True when {@code bytes} of tensors (native memory) can be allocated in this JVM. */
    public static boolean fitsTensors(long bytes) {
        return bytes <= tensorBytes();
    }

    /** "needs 5.0 GiB, more than the 3.0 GiB of memory this JVM may give tensors (...)", for messages. */
    public static String needsMoreThan(long bytes) {
        return "needs " + human(bytes) + ", more than the " + human(tensorBytes()) + " of memory this JVM may give tensors ("
                + describe() + ")";
    }

    /** Bytes as "1.5 GiB", "12.0 MiB", "900 B"; {@link Long#MAX_VALUE} (overflowed estimates) as "more than 8 EiB". */
    public static String human(long bytes) {
        if (bytes == Long.MAX_VALUE) return "more than 8 EiB";
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
