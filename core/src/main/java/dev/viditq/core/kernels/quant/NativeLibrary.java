package dev.viditq.core.kernels.quant;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Finds and loads libviditq.so: from {@code -Dviditq.native.lib=/path/libviditq.so}, else from the classpath
 * resource {@code native/<os>-<arch>/libviditq.so} (the viditq-native jar; extracted to a temporary file when
 * inside a jar), and binds its functions with {@link Linker#downcallHandle}. Loaded once per process; a failure
 * is remembered with its reason. {@code -Dviditq.native=false} disables it.
 */
final class NativeLibrary {
    /** Must match VQ_ABI_VERSION in native/src/main/c/viditq.h. */
    static final int ABI_VERSION = 5;

    final Path path;
    private final SymbolLookup lookup;
    final MethodHandle impl, implName, implNames, quantize, groupSums, gemmW8A8, gemmW4A8, vnniPeak;

    private static final Object LOCK = new Object();
    private static NativeLibrary loaded;
    private static String failure;

    /** Thrown when the library cannot be used; the message says why. */
    static final class Unavailable extends RuntimeException {
        Unavailable(String reason, Throwable cause) {
            super(reason, cause);
        }
    }

    private NativeLibrary(Path path, SymbolLookup lookup) {
        this.path = path;
        this.lookup = lookup;
        Linker linker = Linker.nativeLinker();
        impl = bind(linker, lookup, "viditq_impl", FunctionDescriptor.of(ADDRESS, ADDRESS));
        implName = bind(linker, lookup, "viditq_impl_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
        implNames = bind(linker, lookup, "viditq_impl_names", FunctionDescriptor.of(ADDRESS));
        quantize = bind(linker, lookup, "viditq_quantize", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_FLOAT,
                ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        groupSums = bind(linker, lookup, "viditq_group_sums", FunctionDescriptor.ofVoid(ADDRESS,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        gemmW8A8 = bind(linker, lookup, "viditq_gemm_w8a8", FunctionDescriptor.ofVoid(ADDRESS,
                ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        gemmW4A8 = bind(linker, lookup, "viditq_gemm_w4a8", FunctionDescriptor.ofVoid(ADDRESS,
                ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        vnniPeak = bind(linker, lookup, "viditq_vnni_peak", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        int abi;
        try {
            abi = (int) bind(linker, lookup, "viditq_abi_version", FunctionDescriptor.of(JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            throw new Unavailable("calling viditq_abi_version in " + path + " failed: " + t, t);
        }
        if (abi != ABI_VERSION) {
            throw new Unavailable(path + " has ABI version " + abi + ", this code needs " + ABI_VERSION
                    + " (a stale build? rebuild the native module)", null);
        }
    }

    /** A downcall handle for another function of this library ({@link NativeMatrix} binds its own). */
    MethodHandle bind(String name, FunctionDescriptor fd) {
        return bind(Linker.nativeLinker(), lookup, name, fd);
    }

    private static MethodHandle bind(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new Unavailable("libviditq has no symbol " + name
                + " (a stale build? rebuild the native module)", null));
        return linker.downcallHandle(symbol, fd);
    }

    /** The loaded library, or {@link Unavailable} with the reason (the same reason on every later call). */
    static NativeLibrary get() {
        synchronized (LOCK) {
            if (loaded != null) return loaded;
            if (failure != null) throw new Unavailable(failure, null);
            try {
                loaded = load();
                return loaded;
            } catch (Unavailable e) {
                failure = e.getMessage();
                throw e;
            } catch (RuntimeException | LinkageError e) {
                failure = "loading libviditq failed: " + e;
                throw new Unavailable(failure, e);
            }
        }
    }

    /**
     * Another build of the library, loaded beside the one {@link #get()} returns, e.g. the AMX-emulated test build
     * (native/target/amx-emulated); {@link Unavailable} with the reason when it cannot be used.
     */
    static NativeLibrary open(Path file) {
        if (!Files.isRegularFile(file)) throw new Unavailable(file + ": no such file", null);
        try {
            return new NativeLibrary(file, SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new Unavailable("cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    /** True unless -Dviditq.native=false. */
    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("viditq.native", "true"));
    }

    private static NativeLibrary load() {
        if (!enabled()) throw new Unavailable("disabled by -Dviditq.native=false", null);
        Path path = locate();
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new Unavailable("cannot load " + path + ": " + e.getMessage(), e);
        }
        return new NativeLibrary(path, lookup);
    }

    static String resourceName() {
        return "native/" + platform() + "/libviditq.so";
    }

    /** "linux-x86_64", "linux-aarch64", ...: the folder build.sh writes to. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) os = "linux";
        else if (os.startsWith("mac")) os = "darwin";
        else if (os.startsWith("windows")) os = "windows";
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        arch = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "arm64", "aarch64" -> "aarch64";
            default -> arch;
        };
        return os + "-" + arch;
    }

    private static Path locate() {
        String explicit = System.getProperty("viditq.native.lib");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) throw new Unavailable("-Dviditq.native.lib=" + explicit + ": no such file", null);
            return p;
        }
        String resource = resourceName();
        URL url = NativeLibrary.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new Unavailable(resource + " is not on the classpath (the native module was built without gcc,"
                    + " or not for " + platform() + ")", null);
        }
        if ("file".equals(url.getProtocol())) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new Unavailable("bad library URL " + url, e);
            }
        }
        return extract(url);
    }

    /** Copies the library out of its jar into a temporary file, deleted at exit. */
    static Path extract(URL url) {
        try (InputStream in = url.openStream()) {
            Path tmp = Files.createTempFile("libviditq-", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        } catch (IOException e) {
            throw new Unavailable("cannot extract " + url + " to a temporary file: " + e.getMessage(), e);
        }
    }
}
