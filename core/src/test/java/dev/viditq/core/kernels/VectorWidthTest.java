package dev.viditq.core.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels run at the width -Dviditq.vector.bits asks for (the core build runs the kernel tests at 256 and 128
 * bits besides the CPU's own): without this a mistyped property would rerun the same width and pass.
 */
class VectorWidthTest {
    @Test
    void kernelsRunAtTheRequestedWidth() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        int expected = Math.min(preferred, Integer.getInteger("viditq.vector.bits", preferred));
        assertEquals(expected, VectorWidth.BITS);
        assertEquals(expected, MicroKernel.S.vectorBitSize());
        assertEquals(expected / Float.SIZE, MicroKernel.L);
        assertEquals(expected, VectorWidth.INTS.vectorBitSize());
        if (expected >= 128) assertTrue(new JavaKernels().name().contains(expected + "-bit"), new JavaKernels().name());
    }
}
