package dev.viditq.core.kernels;

/**
 * Chooses the float kernels once, at start-up, and says which: {@code -Dviditq.kernels=scalar|java} overrides.
 * A fallback is reported once on stderr, never silently.
 */
public final class KernelBackend {
    private static volatile Kernels current;

    private KernelBackend() {}

    public static Kernels get() {
        Kernels k = current;
        if (k == null) {
            synchronized (KernelBackend.class) {
                if (current == null) current = choose();
                k = current;
            }
        }
        return k;
    }

    /** For tests and benchmarks: run with a given implementation. */
    public static synchronized void set(Kernels kernels) {
        current = kernels;
    }

    private static Kernels choose() {
        String wanted = System.getProperty("viditq.kernels", "java");
        if (wanted.equals("scalar")) return new ScalarKernels();
        if (!wanted.equals("java")) {
            System.err.println("viditq: unknown -Dviditq.kernels=" + wanted + " (scalar|java); using java");
        }
        String reason;
        try {
            reason = JavaKernels.unsupportedReason();
            if (reason == null) return new JavaKernels();
        } catch (LinkageError e) {
            // jdk.incubator.vector not resolved: the JVM was started without --add-modules jdk.incubator.vector
            reason = "the Vector API module is missing (start java with --add-modules jdk.incubator.vector): " + e;
        }
        System.err.println("viditq: float kernels fall back to the slow scalar oracle: " + reason);
        return new ScalarKernels();
    }
}
