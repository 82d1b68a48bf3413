package dev.viditq.core.kernels.quant;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The test build of libviditq whose AMX kernels run on the software tile model (native's build.sh
 * --amx-emulated, made in its test-compile phase): how the AMX tiling, packing and tails are tested on CPUs
 * without AMX. Found at -Dviditq.native.emulated or ../native/target/amx-emulated/&lt;os-arch&gt;/libviditq.so.
 */
public final class EmulatedAmx {
    private static String reason;
    private static NativeLibrary lib;

    private EmulatedAmx() {}

    private static synchronized Optional<NativeLibrary> library() {
        if (lib == null && reason == null) {
            Path file = Path.of(System.getProperty("viditq.native.emulated",
                    "../native/target/amx-emulated/" + NativeLibrary.platform() + "/libviditq.so"));
            if (!Files.isRegularFile(file)) {
                reason = "no AMX-emulated library at " + file.toAbsolutePath() + " (built by the native module's test-compile)";
            } else {
                try {
                    NativeLibrary opened = NativeLibrary.open(file);
                    if (NativeMatrix.of(opened).has(NativeMatrix.Unit.AMX)) lib = opened;
                    else reason = "emulated AMX does not run here: " + NativeMatrix.of(opened).amxUnavailableReason();
                } catch (NativeLibrary.Unavailable e) {
                    reason = e.getMessage();
                }
            }
        }
        return Optional.ofNullable(lib);
    }

    /** Why the emulated kernels cannot be tested here (the CPU lacks the AVX-512 the epilogues use, or no build). */
    public static synchronized String unavailableReason() {
        library();
        return reason;
    }

    /** The float path and ceilings of the emulated build. */
    public static Optional<NativeMatrix> matrix() {
        return library().map(NativeMatrix::of);
    }

    /** The integer kernels of the emulated build, ISA "amx". */
    static Optional<IntKernels> intKernels() {
        return library().map(l -> NativeIntKernels.load(l, NativeIntKernels.AMX));
    }
}
