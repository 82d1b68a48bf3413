package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The vectorised row kernels against their scalar oracles: odd widths (masked tails), row ranges, 1, 2 and 16 threads
 * (at 16 the rows are cut finer than 64 K elements per task).
 */
class RowKernelsTest {
    private static final int[][] SHAPES = {{1, 1}, {3, 7}, {5, 16}, {9, 33}, {300, 1152}, {17, 4608}, {2, 17}};
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void affineRowsMatchesTheScalarLoopExactly() {
        for (int threads : new int[]{1, 2, 16}) {
            Parallel.setThreads(threads);
            for (int[] s : SHAPES) {
                int rows = s[0], dim = s[1];
                Random rnd = new Random(rows * 31L + dim);
                Tensor x = random(rnd, rows, dim), expected = copy(x);
                float[] mul = randomArray(rnd, dim), add = randomArray(rnd, dim);
                int from = rows > 2 ? 1 : 0, to = rows > 2 ? rows - 1 : rows;
                RowKernels.affineRows(x.data(), from, to, dim, mul, add);
                RowKernels.affineRowsScalar(expected.data(), from, to, dim, mul, add);
                assertArrayEquals(expected.toFloatArray(), x.toFloatArray(), 0f, rows + "x" + dim + " on " + threads + " threads");
            }
        }
    }

    @Test
    void gatedAddRowsMatchesTheScalarLoopExactly() {
        for (int threads : new int[]{1, 2, 16}) {
            Parallel.setThreads(threads);
            for (int[] s : SHAPES) {
                int rows = s[0], dim = s[1];
                Random rnd = new Random(rows * 17L + dim);
                Tensor r = random(rnd, rows, dim), expected = copy(r), y = random(rnd, rows, dim);
                float[] gate = randomArray(rnd, dim);
                RowKernels.gatedAddRows(r.data(), y.data(), 0, rows, dim, gate);
                RowKernels.gatedAddRowsScalar(expected.data(), y.data(), 0, rows, dim, gate);
                assertArrayEquals(expected.toFloatArray(), r.toFloatArray(), 0f, rows + "x" + dim + " on " + threads + " threads");
            }
        }
    }

    @Test
    void addIndexedRowsMatchesTheScalarLoopExactly() {
        for (int threads : new int[]{1, 2, 16}) {
            Parallel.setThreads(threads);
            for (int[] s : SHAPES) {
                int rows = s[0], dim = s[1], tableRows = 5;
                Random rnd = new Random(rows * 13L + dim);
                Tensor x = random(rnd, rows, dim), expected = copy(x);
                float[] table = randomArray(rnd, tableRows * dim);
                int[] index = new int[rows];
                for (int r = 0; r < rows; r++) index[r] = rnd.nextInt(tableRows);
                RowKernels.addIndexedRows(x.data(), dim, table, index);
                RowKernels.addIndexedRowsScalar(expected.data(), dim, table, index);
                assertArrayEquals(expected.toFloatArray(), x.toFloatArray(), 0f, rows + "x" + dim + " on " + threads + " threads");
            }
        }
    }

    @Test
    void refusesVectorsOfTheWrongWidthAndRowsBeyondTheSegment() {
        Tensor x = Tensor.zeros(4, 8);
        assertThrows(IllegalArgumentException.class, () -> RowKernels.affineRows(x.data(), 0, 4, 8, new float[7], new float[8]));
        assertThrows(IllegalArgumentException.class, () -> RowKernels.affineRows(x.data(), 0, 5, 8, new float[8], new float[8]));
        assertThrows(IllegalArgumentException.class, () -> RowKernels.gatedAddRows(x.data(), x.data(), 0, 4, 8, new float[9]));
        assertThrows(IllegalArgumentException.class, () -> RowKernels.addIndexedRows(x.data(), 8, new float[16], new int[]{0, 2}));
        assertThrows(IllegalArgumentException.class, () -> RowKernels.addIndexedRows(x.data(), 8, new float[16], new int[5]));
    }

    private static Tensor random(Random rnd, int rows, int dim) {
        Tensor t = Tensor.zeros(rows, dim);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) rnd.nextGaussian());
        return t;
    }

    private static float[] randomArray(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }
}
