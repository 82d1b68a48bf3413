package dev.viditq.quant;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantize → run → compare with float, and the checkpoint round trip, on the golden DiT and PixArt models. */
class QuantizeEndToEndTest {
    @TempDir
    static Path tmp;
    static Calibration ditCalibration;
    static Calibration pixartCalibration;

    @BeforeAll
    static void calibrate() {
        try (Denoiser dit = GoldenModels.load(GoldenModels.DIT); Denoiser pixart = GoldenModels.load(GoldenModels.PIXART)) {
            ditCalibration = GoldenModels.calibrate(dit, GoldenModels.DIT, 3, tmp.resolve("dit.calib.safetensors"));
            pixartCalibration = GoldenModels.calibrate(pixart, GoldenModels.PIXART, 2, tmp.resolve("pixart.calib.safetensors"));
        }
    }

    /** Relative error of the integer-quantized model against the float model on the golden inputs. */
    static double quantizedError(Path caseDir, Calibration cal, String preset) {
        QuantConfig cfg = Presets.load(preset);
        try (Denoiser model = GoldenModels.load(caseDir)) {
            Tensor reference = GoldenModels.forward(model, caseDir);
            QuantPlan plan = QuantMethod.of(cfg.method()).plan(model, cal, cfg);
            QuantizedModel q = Quantizer.quantize(model, plan);
            q.install(model, ExecutionMode.INTEGER);
            return GoldenModels.relErr(GoldenModels.forward(model, caseDir), reference);
        }
    }

    @Test
    void viditqW8A8IsCloseToFloat() {
        double dit = quantizedError(GoldenModels.DIT, ditCalibration, "viditq-w8a8");
        double pixart = quantizedError(GoldenModels.PIXART, pixartCalibration, "viditq-w8a8");
        System.out.printf("viditq-w8a8 rel err: dit %.3e, pixart %.3e%n", dit, pixart);
        assertTrue(dit < 2e-2, "dit " + dit);
        assertTrue(pixart < 2e-2, "pixart " + pixart);
    }

    @Test
    void checkpointRoundTripGivesIdenticalOutputs() {
        QuantConfig cfg = Presets.load("viditq-w4a8");
        Path out = tmp.resolve("pixart-w4a8");
        Tensor inMemory;
        try (Denoiser model = GoldenModels.load(GoldenModels.PIXART)) {
            QuantizedModel q = Quantizer.quantize(model, QuantMethod.of(cfg.method()).plan(model, pixartCalibration, cfg));
            QuantizedCheckpoint.write(GoldenModels.PIXART, q, out, false);
            q.install(model, ExecutionMode.INTEGER);
            inMemory = GoldenModels.forward(model, GoldenModels.PIXART);
        }
        try (Denoiser loaded = GoldenModels.load(out)) {
            Tensor reloaded = GoldenModels.forward(loaded, GoldenModels.PIXART);
            assertArrayEquals(inMemory.toFloatArray(), reloaded.toFloatArray());
        }
    }
}
