package dev.viditq.nn.layers;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SinCosTest {
    private static float[] stored(String folder, String key) {
        Path file = GoldenFolder.GOLDEN.resolve(folder + "/model.safetensors");
        try (Safetensors st = Safetensors.open(file)) {
            return st.get(key).toFloatArray();
        }
    }

    private static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }

    @Test
    void ditTableEqualsTheStoredBuffer() {
        // DiT: 4×4 grid of width 64, positions = indices
        assertClose(stored("dit", "pos_embed"), SinCos.grid2d(64, 4, 4, Double.NaN, 1.0), 1e-6);
    }

    @Test
    void pixartTableWithLeweiScaleEqualsTheStoredBuffer() {
        // PixArt initialises the buffer for its square training grid: base_size 4, lewei_scale 2, width 96
        assertClose(stored("pixart_original", "pos_embed"), SinCos.grid2d(96, 4, 4, 4, 2.0), 1e-6);
    }

    @Test
    void openSoraSpatialAndTemporalTablesEqualTheStoredBuffers() {
        assertClose(stored("stdit_v1", "pos_embed"), SinCos.grid2d(64, 4, 4, Double.NaN, 0.5), 1e-6);
        assertClose(stored("stdit_v1", "pos_embed_temporal"), SinCos.line1d(64, 4, 1.0), 1e-6);
    }

    @Test
    void firstHalfEncodesTheColumnOnANonSquareGrid() {
        int dim = 16, gh = 3, gw = 5;
        float[] grid = SinCos.grid2d(dim, gh, gw, 2.0, 1.0);
        for (int r = 0; r < gh; r++) {
            for (int c = 0; c < gw; c++) {
                int o = (r * gw + c) * dim;
                // column position c / (gw / base), row position r / (gh / base); each half is [sin | cos]
                double colPos = (float) c / (float) (gw / 2.0), rowPos = (float) r / (float) (gh / 2.0);
                for (int k = 0; k < dim / 4; k++) {
                    double omega = 1.0 / Math.pow(10000, k / (dim / 4.0));
                    assertEquals(Math.sin(colPos * omega), grid[o + k], 1e-6);
                    assertEquals(Math.cos(colPos * omega), grid[o + dim / 4 + k], 1e-6);
                    assertEquals(Math.sin(rowPos * omega), grid[o + dim / 2 + k], 1e-6);
                    assertEquals(Math.cos(rowPos * omega), grid[o + 3 * dim / 4 + k], 1e-6);
                }
            }
        }
    }

    @Test
    void timestepEmbeddingIsCosThenSin() {
        float[] t = {0f, 1f, 999f};
        int dim = 8;
        float[] e = SinCos.timestep(t, dim, 0);
        for (int i = 0; i < t.length; i++) {
            for (int k = 0; k < dim / 2; k++) {
                double freq = Math.exp(-Math.log(10000) * k / (dim / 2.0));
                // float32 arguments as torch computes them: up to ~1e-4 absolute at t = 999
                assertEquals(Math.cos(t[i] * freq), e[i * dim + k], 2e-4);
                assertEquals(Math.sin(t[i] * freq), e[i * dim + dim / 2 + k], 2e-4);
            }
        }
        assertEquals(1f, e[0]);
        assertEquals(0f, e[dim / 2]);
    }

    @Test
    void oddTimestepWidthGetsAZeroColumn() {
        float[] e = SinCos.timestep(new float[]{5f}, 7, 0);
        assertEquals(7, e.length);
        assertEquals(0f, e[6]);
    }
}
