package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.Captions;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model folder a benchmark {@link Setting} loads: the random float checkpoint itself for bf16, or its quantized
 * version for w8a8 / w4a8 / w4a8-mp, made once with the quant module exactly as {@code ./viditq quantize} makes it
 * (preset → plan → quantized weights → quantized checkpoint, loaded back through the ordinary model loader onto the
 * integer kernels). Presets with channel balancing need calibration statistics; a random model has no meaningful
 * data, so a synthetic calibration is run: one random caption (or class), {@link #CALIBRATION_STEPS} sampling steps.
 * Speed and memory do not depend on the statistics' values.
 *
 * <p>Cached as {@code <cache root>/<arch>-<setting>/}, rebuilt when older than the float checkpoint.
 */
public final class QuantizedSettings {
    static final int CALIBRATION_STEPS = 2;

    private QuantizedSettings() {}

    /** The folder to load for {@code req}: {@code floatDir} itself, or the quantized folder (made when missing). */
    public static Path prepare(E2eRequest req, Path floatDir, PrintStream log) {
        if (!req.setting().quantized()) return floatDir;
        Path dir = req.cacheRoot().resolve(req.arch().name() + "-" + req.setting().label());
        if (isCurrent(dir, floatDir)) return dir;
        QuantConfig config = Presets.load(req.setting().preset());
        long t0 = System.nanoTime();
        try (Denoiser model = ModelLoader.load(floatDir)) {
            Calibration cal = config.needsCalibration() ? calibrate(req.arch(), model, floatDir, log) : null;
            log.printf("quantizing %s with preset %s ...%n", req.arch().name(), req.setting().preset());
            QuantPlan plan = QuantMethod.of(config.method()).plan(model, cal, config);
            QuantizedModel quantized = Quantizer.quantize(model, plan);
            QuantizedCheckpoint.Written w = QuantizedCheckpoint.write(floatDir, quantized, dir, true);
            log.printf("wrote %s (%.1f MB) in %.1f s%n", w.checkpoint(), w.checkpointBytes() / 1e6, (System.nanoTime() - t0) / 1e9);
        }
        return dir;
    }

    private static boolean isCurrent(Path dir, Path floatDir) {
        try {
            if (!Files.isDirectory(dir) || !QuantizedCheckpoint.isQuantized(dir)) return false;
            Path q = dev.viditq.core.io.Checkpoints.findIn(dir);
            return Files.getLastModifiedTime(q).compareTo(Files.getLastModifiedTime(floatDir.resolve("model.safetensors"))) > 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            return false; // unreadable or half-written: make it again
        }
    }

    /** Channel statistics from one random input over a few steps (kept beside the float checkpoint). */
    private static Calibration calibrate(Architecture arch, Denoiser model, Path floatDir, PrintStream log) {
        DenoiserDriver.Input input = arch.family().equals("dit") ? new DenoiserDriver.ClassLabel(207)
                : new DenoiserDriver.Caption(new Captions(new SeededGaussian(7).next(1, arch.captionTokens(), arch.captionChannels()), null),
                null, "random caption embeddings");
        DenoiserDriver driver = new DenoiserDriver(model, List.of(input), arch.sampler(), CALIBRATION_STEPS, arch.cfgScale(), 7,
                null, null, GuidedModel.Batching.BATCHED);
        log.printf("synthetic calibration of %s: 1 random input, %d steps ...%n", arch.name(), CALIBRATION_STEPS);
        return Calibrator.run(driver, floatDir.resolve("calibration.safetensors"), Calibrator.Progress.NONE);
    }
}
