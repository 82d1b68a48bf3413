package dev.viditq.bench.onnx;

import dev.viditq.bench.e2e.E2eBenchmark;
import dev.viditq.bench.e2e.E2eRequest;
import dev.viditq.bench.e2e.QuantizedSettings;
import dev.viditq.bench.arch.RandomCheckpoint;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.SeededGaussian;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Ours and ONNX Runtime in one process, one CFG forward pass (batch 2) each in turn, round after round: on a shared
 * machine whose load drifts, each round's ratio compares the two under the same conditions, and the median ratio is
 * the figure to trust. Memory is not measured here (both models are resident); use the forked runs for that.
 */
public final class InterleavedPeer {
    /** Medians over the measured rounds (after one warm-up round). */
    public record Result(String arch, String setting, int threads, int rounds, double oursSeconds, double ortSeconds,
                         double medianRatio, List<Double> ratios, String peer) {}

    private InterleavedPeer() {}

    public static Result run(E2eRequest req, int rounds, PrintStream log) {
        Parallel.setThreads(req.threads());
        Path floatDir = RandomCheckpoint.ensure(req.arch(), req.cacheRoot(), log);
        Path dir = QuantizedSettings.prepare(req, floatDir, log);
        Path onnx = OnnxPeer.ensureExport(dir, log);
        try (Denoiser ours = ModelLoader.load(dir);
             OrtDenoiser ort = new OrtDenoiser(onnx, ours.info(), ours.nullCaption().map(Tensor::toF32).orElse(null), req.threads())) {
            Conditioning[] cu = E2eBenchmark.conditioningFor(req.arch(), ours);
            Conditioning both = E2eBenchmark.cfgBatch(cu[0], cu[1]);
            long[] latent = req.arch().latentShape();
            long[] shape = new long[latent.length + 1];
            shape[0] = 2;
            System.arraycopy(latent, 0, shape, 1, latent.length);
            Tensor x = new SeededGaussian(1).next(shape);
            Tensor t = Tensor.of(new float[]{500f, 500f}, 2);
            List<Double> oursTimes = new ArrayList<>(), ortTimes = new ArrayList<>(), ratios = new ArrayList<>();
            for (int r = 0; r <= rounds; r++) {
                double a = time(() -> ours.forward(x, t, both));
                double b = time(() -> ort.forward(x, t, both));
                log.printf(Locale.ROOT, "  round %d%s: ours %.3f s, onnxruntime %.3f s, ratio %.2f%n", r, r == 0 ? " (warm-up)" : "", a, b, a / b);
                if (r == 0) continue;
                oursTimes.add(a);
                ortTimes.add(b);
                ratios.add(a / b);
            }
            return new Result(req.arch().name(), req.setting().label(), req.threads(), rounds, E2eBenchmark.median(oursTimes),
                    E2eBenchmark.median(ortTimes), E2eBenchmark.median(ratios), ratios, ort.describe());
        }
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }
}
