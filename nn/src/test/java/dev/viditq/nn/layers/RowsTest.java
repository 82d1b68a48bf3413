package dev.viditq.nn.layers;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RowsTest {
    /** A [rows, cols] tensor whose element (r, c) is r · 1000 + c, so that a misplaced copy shows where it came from. */
    private static Tensor numbered(int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) v[r * cols + c] = r * 1000 + c;
        return Tensor.of(v, rows, cols);
    }

    /** Rows that do not divide among the tasks (37 and 2 rows at 3 threads; one row), and widths 1 and 5. */
    @Test
    void splitColumnsCopiesEveryBlockOfEveryRow() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(3);
            for (int[] s : new int[][]{{37, 3, 5}, {2, 3, 1}, {1, 2, 4}, {130, 3, 7}}) {
                int rows = s[0], parts = s[1], width = s[2];
                Tensor[] blocks = Rows.splitColumns(numbered(rows, parts * width), parts);
                assertEquals(parts, blocks.length);
                for (int p = 0; p < parts; p++) {
                    assertArrayEquals(new long[]{rows, width}, blocks[p].shape(), "block " + p);
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < width; c++) {
                            assertEquals(r * 1000 + p * width + c, blocks[p].getFloat((long) r * width + c), 0,
                                    rows + " rows: block " + p + " row " + r + " column " + c);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void splitColumnsRefusesAWidthThatDoesNotDivide() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rows.splitColumns(numbered(4, 7), 3));
        assertTrue(e.getMessage().contains("3 column blocks"), e.getMessage());
    }
}
