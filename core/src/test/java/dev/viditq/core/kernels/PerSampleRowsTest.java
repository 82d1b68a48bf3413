package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The batch-at-once row kernels (a sample's rows with its own vectors, one pool call) against one call per sample,
 * bit for bit: the FP32 kernels, the BF16 kernel set's delegation, and the defaults (scalar kernels); 1–3 threads,
 * odd widths and row counts.
 */
class PerSampleRowsTest {
    private static final int[][] SHAPES = {{1, 1, 1}, {2, 3, 7}, {3, 5, 33}, {2, 40, 1152}, {3, 9, 17}};   // samples, rows per sample, dim
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(threadsBefore);
    }

    private static List<Kernels> kernelSets() {
        return List.of(new JavaKernels(), new ScalarKernels(), KernelBackend.get());
    }

    @Test
    void modulationOfEverySampleEqualsOneCallPerSample() {
        forEachCase((kernels, samples, rows, dim, rnd) -> {
            Tensor x = random(rnd, samples * rows, dim), expected = copy(x);
            float[][] mul = vectors(rnd, samples, dim), add = vectors(rnd, samples, dim);
            for (int s = 0; s < samples; s++) kernels.affineRows(expected.data(), s * rows, (s + 1) * rows, dim, mul[s], add[s]);
            kernels.affineRowsPerSample(x.data(), rows, dim, mul, add);
            return new float[][]{expected.toFloatArray(), x.toFloatArray()};
        });
    }

    @Test
    void normalisationAndModulationOfEverySampleEqualsOneCallPerSample() {
        forEachCase((kernels, samples, rows, dim, rnd) -> {
            Tensor x = random(rnd, samples * rows, dim);
            Tensor expected = Tensor.zeros(samples * rows, dim), actual = Tensor.zeros(samples * rows, dim);
            float[][] mul = vectors(rnd, samples, dim), add = vectors(rnd, samples, dim);
            for (int s = 0; s < samples; s++) {
                kernels.layerNormAffineRows(x.data(), s * rows, (s + 1) * rows, dim, 1e-6f, mul[s], add[s], expected.data());
            }
            kernels.layerNormAffineRowsPerSample(x.data(), rows, dim, 1e-6f, mul, add, actual.data());
            return new float[][]{expected.toFloatArray(), actual.toFloatArray()};
        });
    }

    @Test
    void gatedAddOfEverySampleEqualsOneCallPerSample() {
        forEachCase((kernels, samples, rows, dim, rnd) -> {
            Tensor r = random(rnd, samples * rows, dim), expected = copy(r), y = random(rnd, samples * rows, dim);
            float[][] gate = vectors(rnd, samples, dim);
            for (int s = 0; s < samples; s++) kernels.gatedAddRows(expected.data(), y.data(), s * rows, (s + 1) * rows, dim, gate[s]);
            kernels.gatedAddRowsPerSample(r.data(), y.data(), rows, dim, gate);
            return new float[][]{expected.toFloatArray(), r.toFloatArray()};
        });
    }

    @Test
    void refusesVectorsOfTheWrongWidthOrRowsBeyondTheSegment() {
        Tensor x = Tensor.zeros(6, 8);
        float[][] two = new float[2][8], narrow = {new float[8], new float[7]};
        assertThrows(IllegalArgumentException.class, () -> RowKernels.affineRowsPerSample(x.data(), 3, 8, narrow, two));
        assertThrows(IllegalArgumentException.class, () -> RowKernels.affineRowsPerSample(x.data(), 4, 8, two, two));
        assertThrows(IllegalArgumentException.class, () -> RowKernels.gatedAddRowsPerSample(x.data(), x.data(), 3, 8, narrow));
        assertThrows(IllegalArgumentException.class, () -> new JavaKernels().layerNormAffineRowsPerSample(x.data(), 3, 8, 1e-6f,
                two, new float[1][8], Tensor.zeros(6, 8).data()));
    }

    private interface Case {
        /** {expected, actual} */
        float[][] run(Kernels kernels, int samples, int rowsPerSample, int dim, Random rnd);
    }

    private static void forEachCase(Case c) {
        for (int threads : new int[]{1, 2, 3}) {
            Parallel.setThreads(threads);
            for (Kernels kernels : kernelSets()) {
                for (int[] s : SHAPES) {
                    float[][] r = c.run(kernels, s[0], s[1], s[2], new Random(s[0] * 31L + s[1] * 7L + s[2]));
                    assertArrayEquals(r[0], r[1], 0f, kernels.name() + ", " + threads + " threads, " + s[0] + " samples of "
                            + s[1] + " × " + s[2]);
                }
            }
        }
    }

    private static float[][] vectors(Random rnd, int count, int dim) {
        float[][] v = new float[count][dim];
        for (float[] row : v) for (int i = 0; i < dim; i++) row[i] = (float) rnd.nextGaussian();
        return v;
    }

    private static Tensor random(Random rnd, int rows, int dim) {
        Tensor t = Tensor.zeros(rows, dim);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) rnd.nextGaussian());
        return t;
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }
}
