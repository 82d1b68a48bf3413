package dev.viditq.core.kernels;

import java.util.List;
import java.util.function.IntFunction;

/**
 * Writes {@code MicroKernel.java}: the 12 × 2-vector register tile in its three variants, written out statement by
 * statement because C2 keeps Vector API values in registers only when nothing is left to loops or generics (see
 * the class comment it emits). Change the tile here and regenerate, from the repository root:
 * <pre>{@code
 * java core/src/test/java/dev/viditq/core/kernels/MicroKernelGenerator.java > core/src/main/java/dev/viditq/core/kernels/MicroKernel.java
 * }</pre>
 * {@code MicroKernelGeneratorTest} fails when the checked-in file is not this program's output.
 */
final class MicroKernelGenerator {
    /** Rows of the tile (two vectors of columns each). */
    static final int MR = 12;

    private MicroKernelGenerator() {}

    public static void main(String[] args) {
        System.out.print(source());
    }

    /** How one variant addresses its output tile and its x operand. */
    private record Variant(String javadoc, String signature, String offsetType, String rowStep,
                           IntFunction<String> load, IntFunction<String> store, boolean xDown) {}

    static String source() {
        StringBuilder s = new StringBuilder(HEADER);
        List<Variant> variants = List.of(
                new Variant("""
                            /**
                             * out[12 rows, NR cols] += x[12 rows, kc] · panel[kc, NR], writing into a native segment (row {@code r} of the
                             * tile starts at byte {@code outOffset + r·outRowBytes}). Row {@code r}, step {@code p} of x is
                             * {@code x[xOffset + r·xRow + p]}.
                             */
                        """,
                        """
                            static void tileToSegment(float[] x, int xOffset, int xRow, float[] panel, int kc,
                                    MemorySegment out, long outOffset, long outRowBytes) {
                        """,
                        "long", "outRowBytes",
                        r -> "c" + r + "0 = FloatVector.fromMemorySegment(S, out, o" + r + ", LE), c" + r + "1 = FloatVector.fromMemorySegment(S, out, o" + r + " + VBYTES, LE);",
                        r -> "c" + r + "0.intoMemorySegment(out, o" + r + ", LE); c" + r + "1.intoMemorySegment(out, o" + r + " + VBYTES, LE);",
                        false),
                new Variant("""
                            /** As {@link #tileToSegment}, accumulating into a heap array (row {@code r} starts at {@code outOffset + r·outRow}). */
                        """,
                        """
                            static void tileToArray(float[] x, int xOffset, int xRow, float[] panel, int kc,
                                    float[] out, int outOffset, int outRow) {
                        """,
                        "int", "outRow", MicroKernelGenerator::arrayLoad, MicroKernelGenerator::arrayStore, false),
                new Variant("""
                            /**
                             * As {@link #tileToArray} for x read down columns: row {@code r}, step {@code p} of x is
                             * {@code x[xOffset + r + p·xStep]} (the rows of a tile are adjacent elements, e.g. dimensions of a stored
                             * vector, the steps are vectors {@code xStep} apart). Separate from the contiguous kernels because a variable
                             * step in their index costs them ~3% (measured).
                             */
                        """,
                        """
                            static void tileToArrayDown(float[] x, int xOffset, int xStep, float[] panel, int kc,
                                    float[] out, int outOffset, int outRow) {
                        """,
                        "int", "outRow", MicroKernelGenerator::arrayLoad, MicroKernelGenerator::arrayStore, true));
        for (int i = 0; i < variants.size(); i++) {
            if (i > 0) s.append('\n');
            method(s, variants.get(i));
        }
        return s.append("}\n").toString();
    }

    private static String arrayLoad(int r) {
        return "c" + r + "0 = FloatVector.fromArray(S, out, o" + r + "), c" + r + "1 = FloatVector.fromArray(S, out, o" + r + " + L);";
    }

    private static String arrayStore(int r) {
        return "c" + r + "0.intoArray(out, o" + r + "); c" + r + "1.intoArray(out, o" + r + " + L);";
    }

    private static void method(StringBuilder s, Variant v) {
        s.append(v.javadoc()).append(v.signature());
        for (int r = 0; r < MR; r++) {
            s.append("        ").append(v.offsetType()).append(" o").append(r).append(" = outOffset")
                    .append(r == 0 ? "" : " + " + r + " * " + v.rowStep()).append(";\n");
        }
        for (int r = 0; r < MR; r++) s.append("        FloatVector ").append(v.load().apply(r)).append('\n');
        if (!v.xDown()) {
            for (int r = 0; r < MR; r++) {
                s.append("        int x").append(r).append(" = xOffset").append(r == 0 ? "" : " + " + r + " * xRow").append(";\n");
            }
        }
        s.append("        for (int p = 0; p < kc; p++) {\n");
        s.append(v.xDown() ? "            int w = p * NR, xp = xOffset + p * xStep;\n" : "            int w = p * NR;\n");
        s.append("""
                            FloatVector b0 = FloatVector.fromArray(S, panel, w);
                            FloatVector b1 = FloatVector.fromArray(S, panel, w + L);
                            FloatVector a;
                """);
        for (int r = 0; r < MR; r++) {
            String xr = v.xDown() ? (r == 0 ? "xp" : "xp + " + r) : "x" + r + " + p";
            s.append("            a = FloatVector.broadcast(S, x[").append(xr).append("]);\n");
            s.append("            c").append(r).append("0 = b0.fma(a, c").append(r).append("0); c").append(r)
                    .append("1 = b1.fma(a, c").append(r).append("1);\n");
        }
        s.append("        }\n");
        for (int r = 0; r < MR; r++) s.append("        ").append(v.store().apply(r)).append('\n');
        s.append("    }\n");
    }

    private static final String HEADER = """
            package dev.viditq.core.kernels;

            import jdk.incubator.vector.FloatVector;
            import jdk.incubator.vector.VectorSpecies;

            import java.lang.foreign.MemorySegment;
            import java.nio.ByteOrder;

            /**
             * The register tile every float matrix product runs on: 12 rows × 2 vectors of accumulators (24 registers, plus
             * 2 panel vectors and one broadcast: 27 of the 32 AVX-512 registers), {@code out += x · panel}.
             *
             * <p>Why 12 × 2: measured on Zen 4 (1 thread, panel in L2, x streamed from L3, K = 1152), tiles of 8 × 3 reached
             * 0.87 of the FMA peak, 12 × 2 0.95, 14 × 2 0.98, 4 × 6 and 6 × 4 0.94 (a step of 8 × 3 is 3 panel loads and
             * 8 broadcasts for 24 FMAs; 12 × 2 is 2 loads and 12 broadcasts for 24). 12 rather than 14 rows: 12 divides
             * the attention head size 72 and the 120 caption tokens, where 14 would pad 72 dimensions to 84.
             *
             * <p>Why it looks like this: C2 keeps Vector API values in registers only when every operation inlines into one
             * method of modest size and the element type is fixed, so the tile is written out by hand (no loops over
             * accumulators, no generic element type) and is never inlined into its callers. The x operand is a heap array
             * because scalar {@code MemorySegment} reads in this loop cost 3-4× the throughput (bounds and liveness checks
             * on every broadcast); the panel is a heap array packed by the caller as {@code panel[p·NR + column]}.
             * Written by MicroKernelGenerator (core test sources; MicroKernelGeneratorTest fails when this file is not its
             * output): edit and rerun that, not this. The variants differ only in where the tile lives and in how x is laid
             * out. The vector width is {@link VectorWidth}'s (narrower than the CPU's under test).
             */
            final class MicroKernel {
                static final VectorSpecies<Float> S = VectorWidth.FLOATS;
                /** Float lanes per vector. */
                static final int L = S.length();
                /** Rows of a tile. */
                static final int MR = 12;
                /** Columns of a tile (two vectors). */
                static final int NR = 2 * L;
                private static final long VBYTES = (long) L * Float.BYTES;
                private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

                private MicroKernel() {}

            """;
}
