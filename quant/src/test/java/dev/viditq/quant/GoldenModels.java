package dev.viditq.quant;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.text.Captions;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The small golden models (random weights in the official layouts) as quantization test subjects: their folders
 * (skipping a test when the shared cases are missing, failing it under CI=true),
 * one forward pass on the case's own inputs, and a short calibration run.
 */
final class GoldenModels {
    static Path dit() {
        return GoldenFolder.GOLDEN.resolve("dit");
    }

    static Path pixart() {
        return GoldenFolder.GOLDEN.resolve("pixart_original");
    }

    static Path stdit() {
        return GoldenFolder.GOLDEN.resolve("stdit_v1");
    }
    static final int CALIBRATION_STEPS = 4;

    private GoldenModels() {}

    /** The model's output on its golden inputs (x, t and y / mask / micro-conditions). */
    static Tensor forward(Denoiser model, Path caseDir) {
        try (TensorFile io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            return model.forward(io.get("x").copy(), io.get("t").copy(), conditioning(model, io));
        }
    }

    private static Conditioning conditioning(Denoiser model, TensorFile io) {
        if (model.info().numClasses() > 0) return Conditioning.classLabels(io.get("y").copy());
        Conditioning c = Conditioning.caption(io.get("y").copy(), io.get("mask").copy());
        if (model.info().microConditions()) c = c.withMicroConditions(io.get("img_hw").copy(), io.get("aspect_ratio").copy());
        return c;
    }

    /** Calibration inputs: class labels for DiT, the golden captions (one per prompt) for text models. */
    static List<DenoiserDriver.Input> inputs(Denoiser model, Path caseDir, int count) {
        List<DenoiserDriver.Input> out = new ArrayList<>();
        if (model.info().numClasses() > 0) {
            for (int i = 0; i < count; i++) out.add(new DenoiserDriver.ClassLabel(i % model.info().numClasses()));
            return out;
        }
        try (TensorFile io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            Tensor y = io.get("y").toF32();
            Tensor mask = io.get("mask").toF32();
            int b = y.size(0), l = y.size(2), d = y.size(3);
            for (int i = 0; i < count; i++) {
                int row = i % b;
                Tensor emb = Tensor.of(y.sliceRows(row, row + 1).toFloatArray(), 1, l, d);
                Tensor m = Tensor.of(mask.sliceRows(row, row + 1).toFloatArray(), 1, l);
                out.add(new DenoiserDriver.Caption(new Captions(emb, m), null, "golden caption " + row));
            }
        }
        return out;
    }

    /** A short calibration of {@code model} over {@code count} inputs, written to {@code out}. */
    static Calibration calibrate(Denoiser model, Path caseDir, int count, Path out) {
        return calibrate(model, caseDir, count, out, false);
    }

    /** As {@link #calibrate(Denoiser, Path, int, Path)}, also recording every layer's input Hessian when {@code hessians}. */
    static Calibration calibrate(Denoiser model, Path caseDir, int count, Path out, boolean hessians) {
        DenoiserDriver driver = new DenoiserDriver(model, inputs(model, caseDir, count), model.info().family().bareDenoiserSampler(),
                CALIBRATION_STEPS, 4.0, 7, null, null, GuidedModel.Batching.BATCHED);
        return Calibrator.run(driver, out, Calibrator.Progress.NONE, hessians);
    }

    static Denoiser load(Path dir) {
        return ModelLoader.load(dir);
    }

    /** ||a − b|| / ||b||. */
    static double relErr(Tensor a, Tensor b) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        if (x.length != y.length) throw new AssertionError("sizes differ: " + a + " vs " + b);
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (double) (x[i] - y[i]) * (x[i] - y[i]);
            den += (double) y[i] * y[i];
        }
        return Math.sqrt(num / den);
    }
}
