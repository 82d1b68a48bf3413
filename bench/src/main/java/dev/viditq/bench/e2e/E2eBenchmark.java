package dev.viditq.bench.e2e;

import java.util.LinkedHashMap;
import java.util.Map;
import dev.viditq.core.cuda.Cuda;
import dev.viditq.bench.arch.RandomCheckpoint;
import dev.viditq.bench.onnx.OnnxPeer;
import dev.viditq.bench.profile.MachineState;
import dev.viditq.bench.profile.ProcessMemory;
import dev.viditq.bench.profile.StepProfiler;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.parallel.PoolStats;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Runs the denoiser of a real-size architecture through {@link TimedSampling} (its official sampler with
 * classifier-free guidance on one latent), on random weights loaded memory-mapped through the normal
 * {@link ModelLoader}, and on random caption embeddings (no text encoder, no VAE: the denoiser is what is
 * measured); or hands the request to the ONNX Runtime peer.
 *
 * <p>Run one request per process when memory figures matter ({@link ForkedRun}): the peak RSS is the process's.
 */
public final class E2eBenchmark {
    private E2eBenchmark() {}

    /** Runs {@code req} in this process. */
    public static E2eResult run(E2eRequest req, PrintStream log) {
        Parallel.setThreads(req.threads());
        Path modelDir = RandomCheckpoint.ensure(req.arch(), req.cacheRoot(), log);
        return switch (req.engine()) {
            case VIDITQ -> runOurs(req, modelDir, log);
            case ONNXRUNTIME -> OnnxPeer.run(req, modelDir, log);
        };
    }

    /**
     * With {@code --device cuda}: device bytes of resident weights, of activation blocks (peak), of scratch, and
     * what the driver counts in use (everything, the CUDA context and cuBLASLt workspace included); else null.
     */
    private static Map<String, Long> deviceMemory() {
        return Cuda.session().map(s -> {
            long[] info = s.device().memoryInfo();
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("weights", s.memory().weightBytes());
            m.put("activations_peak", s.memory().managedPeak());
            m.put("scratch", s.memory().scratchBytes());
            m.put("driver_used", info[1] - info[0]);
            return m;
        }).orElse(null);
    }

    private static E2eResult runOurs(E2eRequest req, Path modelDir, PrintStream log) {
        Path measuredDir = QuantizedSettings.prepare(req, modelDir, log);
        long t0 = System.nanoTime();
        try (Denoiser model = ModelLoader.load(measuredDir)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            long modelBytes = ModelBytes.of(measuredDir);
            ProcessMemory afterLoad = ProcessMemory.read();
            String load = MachineState.loadAverage();
            log.printf("load average %s%n", load);
            log.printf("%s %s: loaded in %.1f s, %.1f MB of weights; sampling 1 + %d steps on %d threads (%s)%n",
                    req.arch().name(), req.setting().label(), loadSeconds, modelBytes / 1e6, req.steps(), req.threads(),
                    KernelBackend.get().name());
            TimedSampling.Timed timed;
            try (StepProfiler profiler = StepProfiler.open(model)) {
                timed = TimedSampling.sample(model, req, profiler::snapshot, () -> {
                    profiler.clearShapes();
                    log.printf("after the warm-up step: %s%n", ActivationPool.stats());
                }, log);
                log.printf("after sampling: %s%n", ActivationPool.stats());
                timed.printSteal(log);
                printPool(timed, req.threads(), log);
                profiler.printShapes(log);
            }
            ProcessMemory end = ProcessMemory.read();
            // after sampling, when the JIT has compiled the model's kernels and is free to compile the ceiling loop
            double ceiling = MachineState.fmaCeilingGflops(req.threads());
            log.printf("FP32 FMA ceiling after sampling: %.0f GFLOP/s on %d threads%n", ceiling, req.threads());
            return new E2eResult(req.arch().name(), req.setting().label(), req.engine().label(), req.threads(), req.steps(),
                    TimedSampling.median(timed.totals()), timed.totals(), modelBytes, end.peakRss(), afterLoad.rss(), end.rssFile(),
                    end.rssAnon(), timed.splitMap(), loadSeconds, "viditq kernels: " + KernelBackend.get().name()
                    + ", int " + IntKernelBackend.description() + "; " + Runtime.version(),
                    timed.meanSplit() == null ? null : timed.meanSplit().gemmGflops(), ceiling, load, MachineState.jvmOptions(),
                    QuantizedSettings.averageWeightBits(req.setting(), measuredDir), deviceMemory(), timed.poolMap(),
                    timed.steal());
        }
    }

    /** One line on the thread pool's calls per measured step: where a many-thread step loses its time. */
    private static void printPool(TimedSampling.Timed timed, int threads, PrintStream log) {
        if (timed.meanSplit() == null || threads < 2) return;
        PoolStats p = timed.meanSplit().pool();
        log.printf("thread pool per step: %d calls, %.3f s inside them (%.0f%% of the step), threads in the bodies %.0f%% "
                        + "of that; a helper joins a call %.1f us after it starts (%d joins later than %d us), the caller "
                        + "waits %.1f us per call for the others' tasks; %d parked helpers woken%n", p.calls(), p.wallNanos() / 1e9,
                100 * p.wallNanos() / 1e9 / timed.meanSplit().total(), 100 * p.busyFraction(), p.meanHelperStartMicros(),
                p.lateJoins(), PoolStats.LATE_JOIN_NANOS / 1000, p.meanCallerWaitMicros(), p.parkedWakes());
    }
}
