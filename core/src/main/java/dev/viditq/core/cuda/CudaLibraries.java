package dev.viditq.core.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The NVIDIA libraries, found by name through the dynamic loader (LD_LIBRARY_PATH, ld.so.cache): the driver
 * (libcuda.so.1, installed with the NVIDIA driver), cuBLASLt (libcublasLt.so.13 or .12, from the CUDA toolkit or the
 * nvidia-cublas wheel) and, reported only, NVRTC. Nothing here is needed to build or run on a CPU: a missing library
 * is a reason, printed by {@code ./viditq info} and by {@code --device cuda}.
 */
public final class CudaLibraries {
    static final String[] DRIVER = {"libcuda.so.1", "libcuda.so"};
    static final String[] CUBLASLT = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};
    static final String[] NVRTC = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};

    /** A library that loaded: the name that resolved and its symbols. */
    record Loaded(String name, SymbolLookup symbols) {
        MethodHandle function(String symbol, FunctionDescriptor descriptor) {
            MemorySegment address = symbols.find(symbol)
                    .orElseThrow(() -> new CudaException(name + " has no symbol " + symbol + " (too old?)"));
            return Linker.nativeLinker().downcallHandle(address, descriptor);
        }
    }

    private CudaLibraries() {}

    /** The first of {@code names} the loader finds, or empty with the reasons in {@code tried}. */
    static Optional<Loaded> load(String[] names, List<String> tried) {
        for (String name : names) {
            try {
                return Optional.of(new Loaded(name, SymbolLookup.libraryLookup(name, Arena.global())));
            } catch (IllegalArgumentException e) {
                tried.add(name);
            }
        }
        return Optional.empty();
    }

    /** Which of the three libraries the loader finds, by name (for {@code info}); loads nothing else. */
    public static List<String> found() {
        List<String> found = new ArrayList<>();
        for (String[] names : new String[][]{DRIVER, CUBLASLT, NVRTC}) {
            List<String> tried = new ArrayList<>();
            found.add(load(names, tried).map(Loaded::name).orElse("missing (" + String.join(", ", tried) + ")"));
        }
        return found;
    }
}
