package dev.viditq.bench.e2e;

import dev.viditq.quant.method.QuantMethods;
import dev.viditq.bench.arch.Architecture;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.text.Captions;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.quant.checkpoint.FolderSeal;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
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
 * data, so a synthetic calibration is run: one random caption (or class), {@link #CALIBRATION_STEPS} sampling steps
 * (the fewest the order-2 samplers accept: more would add little to the channel maxima the balancing needs, and
 * STDiT-XL steps take minutes).
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
        Path dir = folderFor(req);
        if (isCurrent(dir, floatDir)) return dir;
        double bits = quantize(req.arch(), floatDir, req.setting().configName(), req.setting().config(), dir, log);
        writeFacts(dir, req.setting().configName(), bits);
        return dir;
    }

    /**
     * Quantizes the model in {@code floatDir} with {@code config} into {@code dir}, as {@code ./viditq quantize} does,
     * after a synthetic calibration when the config needs one (with every layer's input Hessian when it asks for
     * GPTQ); returns the plan's average weight bits.
     */
    public static double quantize(Architecture arch, Path floatDir, String configName, QuantConfig config, Path dir, PrintStream log) {
        long t0 = System.nanoTime();
        try (Denoiser model = ModelLoader.load(floatDir)) {
            Calibration cal = config.needsCalibration() ? calibrate(arch, model, floatDir, config.gptq() != null, log) : null;
            log.printf("quantizing %s with %s ...%n", arch.name(), configName);
            QuantPlan plan = QuantMethods.of(config.method()).plan(model, cal, config);
            double bits = averageWeightBits(plan);
            log.printf("%s: average weight bits %.2f over the quantized Linears%n", configName, bits);
            QuantizedModel quantized = Quantizer.quantize(model, plan, cal);
            QuantizedCheckpoint.Written w = QuantizedCheckpoint.write(floatDir, quantized, dir, true);
            log.printf("wrote %s (%.1f MB) in %.1f s%n", w.checkpoint(), w.checkpointBytes() / 1e6, (System.nanoTime() - t0) / 1e9);
            return bits;
        }
    }

    /**
     * {@code <cache>/<arch>-<setting>}; for the benchmark's own plans a fingerprint of the plan text is appended, so
     * that editing the plan makes a new folder instead of reusing a stale one.
     */
    static Path folderFor(E2eRequest req) {
        String name = req.arch().name() + "-" + req.setting().label();
        if (req.setting().configName().startsWith("bench:")) {
            name += "-" + Integer.toHexString(req.setting().configText().hashCode());
        }
        return req.cacheRoot().resolve(name);
    }

    /**
     * Parameter-weighted mean of the weight bits over the quantized Linears, averaged over a 20-step run with
     * timesteps spread evenly over 999..0 (step-ranged bit-map rules count for the steps they cover).
     */
    static double averageWeightBits(QuantPlan plan) {
        final int steps = 20;
        double bits = 0, params = 0;
        for (LayerPlan layer : plan.layers().values()) {
            double p = (double) layer.in() * layer.out();
            for (int i = 0; i < steps; i++) {
                Precision precision = layer.precisionAt(i, 999.0 * (steps - i) / steps);
                bits += p * (precision.isFloat() ? 16 : precision.weightBits()) / steps;
            }
            params += p;
        }
        return params == 0 ? 0 : bits / params;
    }

    /** Hidden: not part of the model, so outside its seal (which refuses files added after quantization). */
    private static final String FACTS = ".bench-setting.json";

    private static void writeFacts(Path dir, String configName, double avgBits) {
        try {
            Files.writeString(dir.resolve(FACTS), String.format(java.util.Locale.ROOT,
                    "{\"config\": \"%s\", \"avg_weight_bits\": %.4f}%n", configName, avgBits));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FACTS), e);
        }
    }

    /**
     * The average weight bits of a setting's folder: recorded when it was made; for a folder made before that was
     * recorded, the config's bits when it has no bit map; else null. Null for the float setting.
     */
    static Double averageWeightBits(Setting setting, Path dir) {
        if (!setting.quantized()) return null;
        Path f = dir.resolve(FACTS);
        if (!Files.isRegularFile(f)) {
            QuantConfig config = setting.config();
            return config.bitMap().isEmpty() ? (double) config.weight().bits() : null;
        }
        try {
            return E2eResult.JSON.readTree(f.toFile()).path("avg_weight_bits").asDouble();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isCurrent(Path dir, Path floatDir) {
        try {
            if (!Files.isDirectory(dir) || !QuantizedCheckpoint.isQuantized(dir)) return false;
            if (FolderSeal.sealOf(dir) == null) return false; // cached before seals existed: loading would refuse it
            Path q = dev.viditq.core.io.Checkpoints.findIn(dir);
            return Files.getLastModifiedTime(q).compareTo(Files.getLastModifiedTime(floatDir.resolve("model.safetensors"))) > 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            return false; // unreadable or half-written: make it again
        }
    }

    /**
     * Channel statistics from one random input over a few steps, with every layer's input Hessian when
     * {@code hessians} (kept beside the float checkpoint).
     */
    private static Calibration calibrate(Architecture arch, Denoiser model, Path floatDir, boolean hessians, PrintStream log) {
        // a model without a learned null caption (Wan) guides with a negative caption: random ones too
        Captions negative = model.nullCaption().isPresent() ? null
                : new Captions(new SeededGaussian(8).next(1, arch.captionTokens(), arch.captionChannels()), null);
        DenoiserDriver.Input input = arch.family().classConditional() ? new DenoiserDriver.ClassLabel(207)
                : new DenoiserDriver.Caption(new Captions(new SeededGaussian(7).next(1, arch.captionTokens(), arch.captionChannels()), null),
                negative, "random caption embeddings");
        // the architecture's latent size and frames: a config may leave them open (Wan's does)
        DenoiserDriver driver = new DenoiserDriver(model, List.of(input), arch.sampler(), CALIBRATION_STEPS, arch.cfgScale(), 7,
                arch.latent(), arch.video() ? arch.frames() : null, GuidedModel.Batching.BATCHED);
        log.printf("synthetic calibration of %s: 1 random input, %d steps ...%n", arch.name(), CALIBRATION_STEPS);
        // named by its step count: a file from a run with other settings is not resumable (the calibrator refuses
        // it), and caches made by earlier versions of this class used other counts
        Path file = floatDir.resolve("calibration-" + CALIBRATION_STEPS + "steps" + (hessians ? "-hessians" : "") + ".safetensors");
        return Calibrator.run(driver, file, Calibrator.Progress.NONE, hessians);
    }
}
