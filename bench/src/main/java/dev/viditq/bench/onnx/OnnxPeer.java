package dev.viditq.bench.onnx;

import dev.viditq.bench.e2e.E2eRequest;
import dev.viditq.bench.e2e.E2eResult;
import dev.viditq.bench.e2e.QuantizedSettings;
import dev.viditq.bench.e2e.TimedSampling;
import dev.viditq.bench.profile.MachineState;
import dev.viditq.bench.profile.ProcessMemory;
import dev.viditq.bench.profile.StepProfiler;
import dev.viditq.core.io.Checkpoints;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The ONNX Runtime side of {@code bench e2e --peer onnxruntime}: exports the same checkpoint (the random float one,
 * or its quantized version for a quantized setting; cached beside it in {@code <model folder>-onnx/model.onnx}), and runs the same sampling loop, shapes and thread count through
 * {@link OrtDenoiser}. Not instrumented: the result has no GEMM/attention split.
 */
public final class OnnxPeer {
    private OnnxPeer() {}

    public static E2eResult run(E2eRequest req, Path modelDir, PrintStream log) {
        Path measuredDir = QuantizedSettings.prepare(req, modelDir, log);
        Path onnx = ensureExport(measuredDir, log);
        ModelFacts facts = ModelFacts.read(measuredDir);
        long t0 = System.nanoTime();
        try (OrtDenoiser model = new OrtDenoiser(onnx, facts.info(), facts.nullCaption(), req.threads())) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            ProcessMemory afterLoad = ProcessMemory.read();
            String load = MachineState.loadAverage();
            log.printf("load average %s%n", load);
            log.printf("%s %s: %s loaded in %.1f s; sampling 1 + %d steps%n", req.arch().name(), req.setting().label(),
                    model.describe(), loadSeconds, req.steps());
            TimedSampling.Timed timed = TimedSampling.sample(model, req, StepProfiler.Snapshot::wallOnly, log);
            timed.printSteal(log);
            ProcessMemory end = ProcessMemory.read();
            // after sampling, when the JIT has compiled the model's kernels and is free to compile the ceiling loop
            double ceiling = MachineState.fmaCeilingGflops(req.threads());
            log.printf("FP32 FMA ceiling after sampling: %.0f GFLOP/s on %d threads%n", ceiling, req.threads());
            return new E2eResult(req.arch().name(), req.setting().label(), req.engine().label(), req.threads(), req.steps(),
                    TimedSampling.median(timed.totals()), timed.totals(), initializerBytes(onnx), end.peakRss(),
                    afterLoad.rss(), end.rssFile(), end.rssAnon(), null, loadSeconds, model.describe(), null, ceiling, load,
                    MachineState.jvmOptions(), null, null, null, timed.steal());
        }
    }

    /**
     * The export of the checkpoint in {@code modelDir} (float, or integer operators for a quantized one), cached in
     * the sibling folder {@code <modelDir>-onnx/}, written when missing or older than the checkpoint. Never inside
     * {@code modelDir}: a quantized folder's seal covers every file in it, so an export written there would make the
     * next load refuse the folder as altered.
     */
    public static Path ensureExport(Path modelDir, PrintStream log) {
        Path dir = modelDir.resolveSibling(modelDir.getFileName() + "-onnx");
        Path onnx = dir.resolve("model.onnx");
        Path stamp = dir.resolve("export-version.txt");
        Path weights = Checkpoints.findIn(modelDir);
        try {
            if (Files.isRegularFile(onnx) && Files.isRegularFile(dir.resolve("model.onnx.data")) && Files.isRegularFile(stamp)
                    && Files.readString(stamp).equals(OnnxExport.VERSION)
                    && Files.getLastModifiedTime(onnx).compareTo(Files.getLastModifiedTime(weights)) > 0) {
                return onnx;
            }
            log.println("exporting " + modelDir + " to " + onnx + " ...");
            long t0 = System.nanoTime();
            OnnxExport.Summary s = OnnxExport.export(modelDir, onnx);
            Files.writeString(stamp, OnnxExport.VERSION);
            log.printf("exported %s, %.2f GB of initializers, in %.1f s%n", s.precision(), s.initializerBytes() / 1e9,
                    (System.nanoTime() - t0) / 1e9);
            return onnx;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long initializerBytes(Path onnx) {
        try {
            return Files.size(onnx.resolveSibling(onnx.getFileName() + ".data")) + Files.size(onnx);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
