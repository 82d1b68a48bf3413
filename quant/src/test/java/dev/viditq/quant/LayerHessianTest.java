package dev.viditq.quant;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.quant.calib.LayerHessian;
import dev.viditq.quant.calib.LayerStats;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Input Hessians in calibration: the sums, determinism, the optional file part, resuming. */
class LayerHessianTest {
    @TempDir
    Path tmp;

    @Test
    void sumsTheRealRowsAsAScalarDoubleLoopWould() {
        int k = 37, rows = 29;
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[rows * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 4 - 2);
        LayerHessian h = new LayerHessian("l", k);
        h.add(Tensor.of(x, rows, k).data(), rows, row -> row % 3 != 1);
        h.add(Tensor.of(x, rows, k).data(), rows, null);
        double[] dense = h.dense();
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double ref = 0;
                for (int t = 0; t < rows; t++) ref += (t % 3 != 1 ? 2.0 : 1.0) * x[t * k + i] * x[t * k + j];
                assertEquals(ref, dense[i * k + j], 1e-5 * (Math.abs(ref) + 1), "H[" + i + "][" + j + "]");
                assertEquals(dense[i * k + j], dense[j * k + i]);
            }
        }
    }

    private static DenoiserDriver driver(Denoiser model, int prompts) {
        return new DenoiserDriver(model, GoldenModels.inputs(model, GoldenModels.pixart(), prompts), "ddim", 3, 4.5, 1, null, null,
                GuidedModel.Batching.BATCHED);
    }

    @Test
    void theFileIsTheSameOnAnyThreadCountAndAfterAResume() throws IOException {
        int threads = Parallel.threads();
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            Parallel.setThreads(1);
            Path one = tmp.resolve("one.safetensors");
            Calibration cal = Calibrator.run(driver(model, 2), one, Calibrator.Progress.NONE, true);
            Parallel.setThreads(2);
            Path two = tmp.resolve("two.safetensors");
            Calibrator.run(driver(model, 2), two, Calibrator.Progress.NONE, true);
            assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(two), "1 thread vs 2 threads");

            Path resumed = tmp.resolve("resumed.safetensors");
            CalibrationTest.Flaky first = new CalibrationTest.Flaky(driver(model, 2), 1);
            assertThrows(IllegalStateException.class, () -> Calibrator.run(first, resumed, Calibrator.Progress.NONE, true));
            Calibrator.run(driver(model, 2), resumed, Calibrator.Progress.NONE, true);
            assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(resumed), "interrupted after 1 prompt and resumed");

            // diag H_jj = Σ x_j² lies between the largest square and rows × the largest square
            LayerStats stats = cal.layer("blocks.0.mlp.fc2");
            LayerHessian h = Calibration.read(one).hessian("blocks.0.mlp.fc2");
            float[] absmax = stats.channelAbsMax();
            long rows = 0;
            for (int step = 0; step < stats.steps(); step++) rows += stats.rows(step, 0) + stats.rows(step, 1);
            double[] dense = h.dense();
            for (int j = 0; j < h.k(); j++) {
                double sq = (double) absmax[j] * absmax[j];
                assertTrue(dense[j * h.k() + j] >= sq * (1 - 1e-5) && dense[j * h.k() + j] <= rows * sq * (1 + 1e-5), "channel " + j);
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void withoutTheFlagTheFileHasNoHessiansAndRunsDoNotMix() {
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            Path plain = tmp.resolve("plain.safetensors");
            Calibrator.run(driver(model, 1), plain, Calibrator.Progress.NONE);
            try (TensorFile f = Safetensors.open(plain)) {
                assertFalse(f.names().stream().anyMatch(n -> n.endsWith(".hessian")));
                assertFalse(f.metadata().get(Calibration.METADATA_KEY).contains("hessians"));
            }
            Calibration read = Calibration.read(plain);
            assertFalse(read.hasHessians());
            String m = assertThrows(IllegalArgumentException.class, () -> read.hessian("blocks.0.mlp.fc2")).getMessage();
            assertTrue(m.contains("--hessians"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> Calibrator.run(driver(model, 2), plain, Calibrator.Progress.NONE, true)).getMessage();
            assertTrue(m.contains("without input Hessians"), m);
        }
    }
}
