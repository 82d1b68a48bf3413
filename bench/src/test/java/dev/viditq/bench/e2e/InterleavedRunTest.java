package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;
import dev.viditq.nn.models.ModelFamily;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Interleaved timing on a small random model: every setting timed every round, ratios per round. */
class InterleavedRunTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static final Architecture PIXART = new Architecture("t-pixart", ModelFamily.PIXART, 2, 96, 4, 2, 4, 8, 1, 32, 6, 0, false);

    @Test
    void timesEverySettingEachRoundAndReportsSpeedupsOverFloat(@TempDir Path cache) {
        InterleavedRun.Result r = InterleavedRun.run(PIXART, List.of(Setting.BF16, Setting.W8A8), false, 3, 1, cache, QUIET);
        assertEquals(2, r.participants().size());
        for (InterleavedRun.Participant p : r.participants()) assertEquals(3, p.seconds().size(), "one time per measured round");
        assertEquals(1, r.ratios().size());
        InterleavedRun.Ratio q = r.ratios().getFirst();
        assertEquals("viditq:w8a8", q.faster());
        assertEquals("viditq:bf16", q.slower());
        assertEquals(3, q.perRound().size());
    }

    @Test
    void ratiosAreSlowerOverFasterPerRound() {
        Map<String, List<Double>> times = new LinkedHashMap<>();
        times.put("viditq:bf16", List.of(4.0, 6.0, 9.0));
        times.put("viditq:w8a8", List.of(2.0, 2.0, 3.0));
        times.put("onnxruntime:w8a8", List.of(3.0, 2.0, 3.0));
        List<InterleavedRun.Ratio> ratios = InterleavedRun.ratios(times);
        assertEquals(2, ratios.size());
        assertEquals(List.of(2.0, 3.0, 3.0), ratios.get(0).perRound());
        assertEquals(3.0, ratios.get(0).median(), 1e-12);
        assertEquals(List.of(1.5, 1.0, 1.0), ratios.get(1).perRound());
        assertEquals(1.0, ratios.get(1).median(), 1e-12);
    }
}
