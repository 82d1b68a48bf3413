package dev.viditq.core.kernels;

import dev.viditq.core.kernels.quant.NativeMatrix;

import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Chooses the float kernels once, at start-up, and says which. The precision ({@link Precision}) comes from
 * {@code -Dviditq.precision=fp32|bf16|auto} (default auto: BF16 GEMMs and attention where that is faster, see
 * {@link NativeMatrix#fasterFloatUnit()})
 * or {@link #usePrecision}; {@code -Dviditq.kernels=scalar|java} picks the FP32 kernels. A fallback is reported
 * once on stderr, never silently.
 */
public final class KernelBackend {
    private static volatile Kernels current;
    private static volatile Precision precision = Precision.parse(System.getProperty("viditq.precision", "auto"));
    /** Makes the kernels of a device backend for a precision; null: the CPU. */
    private static volatile Function<Precision, Kernels> device;

    private KernelBackend() {}

    public static Kernels get() {
        Kernels k = current;
        if (k == null) {
            synchronized (KernelBackend.class) {
                if (current == null) current = choose(precision);
                k = current;
            }
        }
        return k;
    }

    /** For tests and benchmarks: run with a given implementation. */
    public static synchronized void set(Kernels kernels) {
        current = kernels;
    }

    /** The precision asked for (AUTO unless set); what runs is {@link #get()}'s {@link Kernels#name()}. */
    public static Precision precision() {
        return precision;
    }

    /**
     * Runs every float kernel on a device from now on: {@code factory} makes its kernels for the precision asked
     * (also after {@link #usePrecision}); null returns to the CPU.
     */
    public static synchronized void useDevice(Function<Precision, Kernels> factory) {
        device = factory;
        current = null;
    }

    /** The CPU's kernels for {@code p}, whatever device is in use (a device backend's fallback). */
    public static Kernels cpuKernels(Precision p) {
        return chooseCpu(p);
    }

    /** Chooses the kernels again for {@code p} (the CLI's --precision). */
    public static synchronized void usePrecision(Precision p) {
        precision = p;
        current = null;
    }

    /**
     * Runs {@code work} with the kernels of precision {@code p} and restores the previous ones afterwards: golden
     * parity runs in FP32 whatever the process runs in. Not for concurrent use with other precision changes.
     */
    public static <T> T withPrecision(Precision p, Supplier<T> work) {
        Kernels before;
        Precision asked;
        synchronized (KernelBackend.class) {
            before = current;
            asked = precision;
            usePrecision(p);
        }
        try {
            return work.get();
        } finally {
            synchronized (KernelBackend.class) {
                precision = asked;
                current = before;
            }
        }
    }

    private static Kernels choose(Precision p) {
        Function<Precision, Kernels> d = device;
        return d != null ? d.apply(p) : chooseCpu(p);
    }

    private static Kernels chooseCpu(Precision p) {
        String wanted = System.getProperty("viditq.kernels", "java");
        if (wanted.equals("scalar")) return new ScalarKernels();
        Kernels fp32 = fp32Kernels(wanted);
        if (p == Precision.FP32) return fp32;
        Optional<NativeMatrix> engines = NativeMatrix.get();
        Optional<NativeMatrix.Unit> unit = engines.flatMap(p == Precision.BF16 ? NativeMatrix::floatUnit : NativeMatrix::fasterFloatUnit);
        if (unit.isEmpty()) {
            if (p == Precision.BF16) {
                System.err.println("viditq: bf16 precision needs a CPU with AMX-BF16 or AVX512-BF16 and the native library"
                        + " (" + engines.map(e -> "this CPU has neither").orElse("library unavailable") + "); computing in fp32");
            }
            engines.ifPresent(e -> e.reportAmxFallback("fp32"));
            return fp32;
        }
        if (unit.get() != NativeMatrix.Unit.AMX) engines.get().reportAmxFallback("avx512-bf16");
        return new Bf16Kernels(engines.get(), unit.get(), fp32);
    }

    private static Kernels fp32Kernels(String wanted) {
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
