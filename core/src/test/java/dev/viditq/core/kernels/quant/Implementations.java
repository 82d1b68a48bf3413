package dev.viditq.core.kernels.quant;

import java.util.ArrayList;
import java.util.List;

/**
 * The fast implementations under test: Java, every native ISA this CPU runs, and the AMX kernels on the software
 * tile model ({@link EmulatedAmx}); each one missing is announced.
 */
final class Implementations {
    private static List<IntKernels> fast;

    private Implementations() {}

    static synchronized List<IntKernels> fast() {
        if (fast == null) {
            List<IntKernels> list = new ArrayList<>();
            list.add(new JavaIntKernels());
            List<String> isas = NativeIntKernels.supportedIsas();
            if (isas.isEmpty()) {
                String why;
                try {
                    NativeIntKernels.load();
                    why = "no ISA runnable";
                } catch (RuntimeException e) {
                    why = e.getMessage();
                }
                System.err.println("[IntKernels tests] NATIVE KERNELS NOT TESTED: " + why);
            }
            for (String isa : isas) list.add(NativeIntKernels.load(isa));
            if (!isas.isEmpty() && !isas.contains(NativeIntKernels.AMX)) {
                System.err.println("[IntKernels tests] AMX KERNELS NOT TESTED ON HARDWARE: "
                        + NativeMatrix.get().map(NativeMatrix::amxUnavailableReason).orElse("no library"));
            }
            EmulatedAmx.intKernels().ifPresentOrElse(list::add, () -> System.err.println(
                    "[IntKernels tests] AMX KERNELS NOT TESTED ON THE TILE MODEL: " + EmulatedAmx.unavailableReason()));
            fast = List.copyOf(list);
        }
        return fast;
    }

    /** The Java kernels: the reference the native ones must equal bit for bit. */
    static IntKernels java() {
        return fast().get(0);
    }

    static List<IntKernels> natives() {
        return fast().subList(1, fast().size());
    }
}
