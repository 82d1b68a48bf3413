package dev.viditq.core.kernels.quant;

/**
 * Chooses the integer kernels once, at first use: the native library (best ISA of this CPU) when it loads,
 * otherwise the pure Java kernels — announced once on stderr with the reason, never silently.
 * <ul>
 *   <li>{@code -Dviditq.native=false}: Java kernels.</li>
 *   <li>{@code -Dviditq.native.lib=/path/libviditq.so}: load this file instead of the classpath copy.</li>
 *   <li>{@code -Dviditq.native.isa=avx2} (or portable): a lower native ISA, for comparisons.</li>
 *   <li>{@code -Dviditq.intkernels=scalar}: the oracle (slow; for debugging).</li>
 * </ul>
 */
public final class IntKernelBackend {
    private static volatile IntKernels current;

    private IntKernelBackend() {}

    public static IntKernels get() {
        IntKernels k = current;
        if (k == null) {
            synchronized (IntKernelBackend.class) {
                if (current == null) current = choose();
                k = current;
            }
        }
        return k;
    }

    /** What runs, for {@code ./viditq info}: e.g. "native avx512-vnni" or "java". */
    public static String description() {
        return get().name();
    }

    /** For tests and benchmarks: run with a given implementation. */
    public static synchronized void set(IntKernels kernels) {
        current = kernels;
    }

    private static IntKernels choose() {
        if ("scalar".equals(System.getProperty("viditq.intkernels"))) {
            System.err.println("[viditq] integer kernels: scalar oracle (-Dviditq.intkernels=scalar); this is slow");
            return new ScalarIntKernels();
        }
        if (!NativeLibrary.enabled()) {
            System.err.println("[viditq] integer kernels: pure Java (native kernels disabled by -Dviditq.native=false)");
            return new JavaIntKernels();
        }
        try {
            return NativeIntKernels.load(System.getProperty("viditq.native.isa", "auto"));
        } catch (RuntimeException e) {
            System.err.println("[viditq] WARNING: integer kernels fall back to pure Java, several times slower: "
                    + e.getMessage());
            return new JavaIntKernels();
        }
    }
}
