package dev.viditq.core.kernels.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NativeLibraryTest {
    private static boolean available() {
        boolean ok = !NativeIntKernels.supportedIsas().isEmpty();
        if (!ok) System.err.println("[NativeLibraryTest] SKIPPED: native library unavailable (built without gcc?)");
        return ok;
    }

    @Test
    void loadsTheBestIsaAndNamesIt() {
        assumeTrue(available(), "native library unavailable");
        List<String> isas = NativeIntKernels.supportedIsas();
        assertTrue(isas.contains("portable"), isas.toString());
        NativeIntKernels best = NativeIntKernels.load();
        assertEquals(isas.get(0), best.isa());
        assertEquals("native " + best.isa(), best.name());
        assertTrue(IntKernelBackend.description().startsWith("native "), IntKernelBackend.description());
    }

    @Test
    void unknownIsaIsAClearError() {
        assumeTrue(available(), "native library unavailable");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeIntKernels.load("sse9"));
        assertTrue(e.getMessage().contains("sse9") && e.getMessage().contains("portable"), e.getMessage());
    }

    /** Inside a jar (the viditq-native dependency), the library is copied to a temporary file and loads from there. */
    @Test
    void extractsFromAJar(@TempDir Path dir) throws Exception {
        assumeTrue(available(), "native library unavailable");
        URL resource = NativeLibrary.class.getClassLoader().getResource(NativeLibrary.resourceName());
        assertTrue(resource != null, "no " + NativeLibrary.resourceName() + " on the classpath");
        URL inJar = resource;
        if (resource.getProtocol().equals("file")) {   // built in the reactor: put it in a jar first
            Path jar = dir.resolve("viditq-native.jar");
            try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os)) {
                out.putNextEntry(new JarEntry(NativeLibrary.resourceName()));
                Files.copy(Path.of(resource.toURI()), out);
                out.closeEntry();
            }
            inJar = URI.create("jar:" + jar.toUri() + "!/" + NativeLibrary.resourceName()).toURL();
        }
        assertEquals("jar", inJar.getProtocol());
        Path extracted = NativeLibrary.extract(inJar);
        assertTrue(Files.size(extracted) > 0);
        SymbolLookup lookup = SymbolLookup.libraryLookup(extracted, Arena.ofAuto());
        assertTrue(lookup.find("viditq_gemm_w8a8").isPresent());
    }

    @Test
    void platformNamesMatchTheBuildScript() {
        assertTrue(NativeLibrary.resourceName().matches("native/[a-z]+-[a-z0-9_]+/libviditq\\.so"),
                NativeLibrary.resourceName());
    }
}
