package dev.viditq.core.kernels.quant;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the shared differential tests (GemmDifferentialTest, which run the AMX kernels too: on the tile model
 * everywhere, on tiles where the CPU has them) do not reach: activations larger than the kernel's L2 sweep and
 * the wide column tasks of {@link GridSplit}, compared bit for bit with the Java kernels; and AMX on hardware,
 * skipped with the reason on CPUs without it.
 */
class AmxKernelsTest {
    /** The AMX implementations runnable here: hardware (if the CPU has it) and the tile model. */
    private static List<IntKernels> amx() {
        List<IntKernels> list = new ArrayList<>();
        if (NativeIntKernels.supportedIsas().contains(NativeIntKernels.AMX)) list.add(NativeIntKernels.load(NativeIntKernels.AMX));
        EmulatedAmx.intKernels().ifPresent(list::add);
        return list;
    }

    @Test
    void onHardwareWhenTheCpuHasIt() {
        String reason = NativeMatrix.get().map(NativeMatrix::amxUnavailableReason).orElse("native library unavailable");
        Assumptions.assumeTrue(NativeIntKernels.supportedIsas().contains(NativeIntKernels.AMX),
                "skipped: AMX-INT8/AMX-BF16 not usable here: " + reason);
        assertEquals(NativeIntKernels.AMX, NativeIntKernels.load().isa(), "auto picks AMX where it runs");
        assertTrue(NativeMatrix.get().orElseThrow().has(NativeMatrix.Unit.AMX));
    }

    /** 300 rows of k = 4608 (1.4 MiB of activations): two row sweeps, 128-column tasks, a row tail of 12. */
    @Test
    void largeActivationsEqualJavaBitForBit() {
        List<IntKernels> amx = amx();
        Assumptions.assumeFalse(amx.isEmpty(), "skipped: no AMX kernels here (hardware: "
                + NativeMatrix.get().map(NativeMatrix::amxUnavailableReason).orElse("no library") + "; tile model: "
                + EmulatedAmx.unavailableReason() + ")");
        int m = 300, n = 150, k = 4608, before = Parallel.threads();
        Random rnd = new Random(21);
        byte[] q = new byte[m * k];
        for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(255) - 127);
        float[] sx = new float[m];
        for (int r = 0; r < m; r++) sx[r] = (float) Math.exp(rnd.nextGaussian());
        QuantizedActivations x = QuantizedActivations.allocate(m, k).set(m, q, sx);
        MemorySegment bias = Tensor.zeros(n).data();
        for (int c = 0; c < n; c++) bias.setAtIndex(Tensor.F32_LE, c, (float) rnd.nextGaussian());
        List<PackedWeight> weights = List.of(GemmDifferentialTest.int8Weight(n, k, true, false, rnd),
                GemmDifferentialTest.int4Weight(n, k, 0, true, false, rnd), GemmDifferentialTest.int4Weight(n, k, 128, false, false, rnd));
        try {
            Parallel.setThreads(3);
            assertTrue(GridSplit.blocks(m, n, k, x.ldq(), 3).colUnit() > GridSplit.BLOCK, "the case must take wide tasks");
            for (PackedWeight w : weights) {
                MemorySegment expected = Tensor.zeros(m, n).data();
                new JavaIntKernels().gemm(x, w, bias, expected);
                for (IntKernels impl : amx) {
                    MemorySegment got = Tensor.zeros(m, n).data();
                    impl.gemm(x, w, bias, got);
                    GemmDifferentialTest.assertBitwiseEqual(expected, got, m * n, impl.name() + " " + w);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void gridSplitCoversEveryOutputOnce() {
        for (int[] s : new int[][] {{512, 1152, 1152, 16}, {1024, 4608, 4608, 2}, {17, 67, 130, 3}, {300, 150, 4608, 5}, {1, 1152, 1152, 16}}) {
            int rows = s[0], n = s[1], k = s[2], threads = s[3];
            GridSplit split = GridSplit.blocks(rows, n, k, k, threads);
            int[] covered = new int[rows * n];
            for (int t = 0; t < split.tasks(); t++) {
                assertEquals(0, split.colStart(t) % 16, "column starts are multiples of 16");
                for (int r = split.rowStart(t); r < split.rowEnd(t); r++) {
                    for (int c = split.colStart(t); c < split.colEnd(t, n); c++) covered[r * n + c]++;
                }
            }
            for (int i = 0; i < covered.length; i++) assertEquals(1, covered[i], "output " + i + " of " + rows + "x" + n);
            if ((long) rows * n * k >= WorkSplit.MIN_PARALLEL_MACS && threads > 1) {
                assertFalse(GridSplit.balance(split.tasks(), threads) < GridSplit.MIN_BALANCE && split.rowRanges() < Math.ceilDiv(rows, 32),
                        "balanced split for " + rows + "x" + n + " on " + threads + " threads");
            }
        }
    }
}
