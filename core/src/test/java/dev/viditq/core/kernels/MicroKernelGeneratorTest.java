package dev.viditq.core.kernels;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The checked-in register tile is exactly what its generator writes: edit the generator, not the output. */
class MicroKernelGeneratorTest {
    @Test
    void microKernelIsTheGeneratorsOutput() throws Exception {
        Path source = Path.of("src/main/java/dev/viditq/core/kernels/MicroKernel.java");
        assertEquals(MicroKernelGenerator.source(), Files.readString(source),
                "MicroKernel.java differs from MicroKernelGenerator's output; regenerate it (see MicroKernelGenerator)");
    }
}
