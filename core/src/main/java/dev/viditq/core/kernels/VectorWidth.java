package dev.viditq.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width the Java kernels run at: the widest this CPU prefers, or narrower with
 * {@code -Dviditq.vector.bits=128|256} (as Lucene's {@code tests.vectorsize}), so that the paths AVX2 and NEON
 * machines take are also tested on an AVX-512 machine (the core build runs the kernel tests at 256 and 128 bits as
 * well). A width above the preferred one is not emulated (the Vector API would fall back to slow Java): it is
 * capped; that and an unknown value are said on stderr. A class initialiser cannot fail here: the kernel backend
 * would take the error for a missing Vector API module.
 */
public final class VectorWidth {
    /** Bits of the vectors the kernels use. */
    public static final int BITS = chooseBits();
    /** Float vectors of {@link #BITS}. */
    public static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    /** Int vectors of {@link #BITS}. */
    public static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));

    private VectorWidth() {}

    private static int chooseBits() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String wanted = System.getProperty("viditq.vector.bits");
        if (wanted == null) return preferred;
        int bits;
        try {
            bits = Integer.parseInt(wanted.strip());
        } catch (NumberFormatException e) {
            bits = -1;
        }
        if (bits != 64 && bits != 128 && bits != 256 && bits != 512) {
            System.err.println("viditq: ignoring -Dviditq.vector.bits=" + wanted + " (64, 128, 256 or 512); using " + preferred);
            return preferred;
        }
        if (bits > preferred) {
            System.err.println("viditq: -Dviditq.vector.bits=" + bits + " is wider than this CPU's " + preferred + "-bit vectors; using " + preferred);
            return preferred;
        }
        return bits;
    }
}
