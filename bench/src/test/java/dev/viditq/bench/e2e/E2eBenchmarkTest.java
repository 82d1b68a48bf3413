package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;
import dev.viditq.bench.profile.MachineState;
import dev.viditq.nn.models.ModelFamily;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark loop on small random models, in this JVM (figures are not meaningful; the bookkeeping is). */
class E2eBenchmarkTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static final Architecture PIXART = new Architecture("t-pixart", ModelFamily.PIXART, 2, 96, 4, 2, 4, 8, 1, 32, 6, 0, false);

    @Test
    void floatRunReportsStepsSplitAndMemory(@TempDir Path cache) {
        E2eResult r = E2eBenchmark.run(new E2eRequest(PIXART, Setting.BF16, 3, 1, E2eRequest.Engine.VIDITQ, cache), QUIET);
        assertEquals(3, r.stepSeconds().size(), "one warm-up step, then the measured ones");
        assertTrue(r.stepSeconds().contains(r.secPerStep()), "odd count: the median is one of the steps");
        double parts = r.split().get("gemm") + r.split().get("attention") + r.split().get("rest");
        double meanStep = r.stepSeconds().stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertEquals(meanStep, parts, 1e-6, "gemm + attention + rest add up to the mean step");
        assertTrue(r.split().get("gemm") > 0 && r.split().get("attention") > 0);
        // every tensor but the recomputed pos_embed, BF16
        long expected = (PIXART.parameters() - (long) PIXART.tokensPerFrame() * PIXART.hidden()) * 2;
        assertEquals(expected, r.modelBytes());
        assertTrue(r.peakRssBytes() >= r.rssFileBytes() + r.rssAnonBytes() - (1 << 20), "peak RSS is at least the final RSS");
    }

    @Test
    void quantizedSettingsRunOnTheQuantModulesCheckpoints(@TempDir Path cache) {
        E2eResult bf16 = E2eBenchmark.run(new E2eRequest(PIXART, Setting.BF16, 1, 1, E2eRequest.Engine.VIDITQ, cache), QUIET);
        E2eResult w8 = E2eBenchmark.run(new E2eRequest(PIXART, Setting.W8A8, 1, 1, E2eRequest.Engine.VIDITQ, cache), QUIET);
        E2eResult w4 = E2eBenchmark.run(new E2eRequest(PIXART, Setting.W4A8, 1, 1, E2eRequest.Engine.VIDITQ, cache), QUIET);
        assertTrue(w8.modelBytes() < bf16.modelBytes(), w8.modelBytes() + " vs " + bf16.modelBytes());
        assertTrue(w4.modelBytes() < w8.modelBytes(), w4.modelBytes() + " vs " + w8.modelBytes());
        assertEquals("w8a8", w8.setting());
    }

    @Test
    void mixedPrecisionPlanAveragesAtMostFourAndAHalfBits(@TempDir Path cache) {
        E2eResult mp = E2eBenchmark.run(new E2eRequest(PIXART, Setting.W4A8_MP, 1, 1, E2eRequest.Engine.VIDITQ, cache), QUIET);
        E2eResult w4 = E2eBenchmark.run(new E2eRequest(PIXART, Setting.W4A8, 1, 1, E2eRequest.Engine.VIDITQ, cache), QUIET);
        assertNotNull(mp.avgWeightBits());
        assertTrue(mp.avgWeightBits() > 4 && mp.avgWeightBits() <= 4.5 + 1e-9, "average bits " + mp.avgWeightBits());
        assertEquals(4.0, w4.avgWeightBits(), 1e-9);
        assertTrue(mp.modelBytes() > w4.modelBytes(), "8-bit layers make it larger than w4a8");
        assertTrue(mp.modelBytes() < 1.2 * w4.modelBytes(), mp.modelBytes() + " vs " + w4.modelBytes());
    }

    @Test
    void requestsAndResultsSurviveTheTripToAWorker(@TempDir Path cache) {
        E2eRequest req = new E2eRequest(Architecture.preset("stdit-xl-2-16x256"), Setting.W4A8_MP, 4, 2,
                E2eRequest.Engine.ONNXRUNTIME, cache);
        assertEquals(req, E2eRequest.fromArgs(req.toArgs()));
        E2eResult r = new E2eResult("a", "bf16", "viditq", 2, 2, 1.5, List.of(1.5, 1.6), 10, 20, 5, 6, 7,
                java.util.Map.of("gemm", 1.0), 0.1, "x", 12.5, 500.0, "1.0 2.0 3.0", "-Xmx1g", 4.5,
                java.util.Map.of("weights", 1000L), java.util.Map.of("calls", 800.0, "busy_fraction", 0.5),
                new MachineState.Steal(0.01, 0.05));
        assertEquals(r, E2eResult.fromJson(r.toJson()));
        assertTrue(r.toJson().contains("\"sec_per_step\""));
        assertTrue(r.toJson().contains("\"cpu_steal\":{\"fraction\":0.01,\"worst_cpu_fraction\":0.05}"), r.toJson());
        assertThrows(IllegalArgumentException.class, () -> Setting.parse("w2a2"));
    }
}
