package dev.viditq.nn.sampling;

import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * UniPC on flow sigmas: the golden runs (timesteps and sigmas exact, trajectories to 1e-5) and properties derived by
 * hand. On the flow path x = (1 − σ)·x0 + σ·n an oracle model returns v = n − x0 exactly; every UniP/UniC update
 * is then exact whatever its order (the x0 predictions do not change), so the run must land on x0.
 */
class UniPcFlowTest {
    @Test
    void goldenRunsMatch() throws Exception {
        Path dir = GoldenFolder.named("golden_wan").resolve("schedulers/unipc_flow");
        var runs = UniPcFlowGolden.runs(dir);
        assertFalse(runs.isEmpty());
        for (var r : runs) {
            assertTrue(UniPcFlowGolden.sameTimesteps(r), r.name() + ": timesteps differ");
            assertArrayEquals(r.refSigmas(), r.sigmas(), 0f, r.name() + ": sigmas");
            double err = dev.viditq.nn.parity.GoldenCase.relErr(r.trajectory(), r.refTrajectory());
            assertTrue(err < 1e-5, r.name() + ": trajectory rel err " + err);
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 1, 3.0", "2, 2, 3.0", "10, 2, 5.0", "50, 2, 3.0", "7, 3, 1.0", "30, 3, 5.0", "25, 1, 2.0"})
    void landsOnX0WithAnExactModel(int steps, int order, double shift) {
        double[] x0 = {0.5, -1.25, 0.0, 2.0, -0.3, 0.7, 1.1, -2.2};
        double[] n = new double[x0.length];
        SeededGaussian g = new SeededGaussian(3);
        for (int i = 0; i < n.length; i++) n[i] = g.nextGaussian();
        UniPcFlowSampler s = new UniPcFlowSampler(new UniPcFlowSampler.Config(1000, shift, order,
                UniPcFlowSampler.SolverType.BH2, true, Set.of()));
        float sigma0 = s.sigmas(steps)[0];
        double[] start = new double[x0.length];
        for (int i = 0; i < x0.length; i++) start[i] = (1 - sigma0) * x0[i] + sigma0 * n[i];
        long[] shape = {1, 2, 2, 2};
        ModelFunction oracle = (x, step) -> {
            double[] v = new double[x0.length];
            for (int i = 0; i < v.length; i++) v[i] = n[i] - x0[i];
            return Latents.toTensor(v, x.shape());
        };
        Tensor out = s.sample(oracle, Latents.toTensor(start, shape), steps, null, StepListener.NONE);
        assertArrayEquals(x0, Latents.toDoubles(out), 1e-5);
    }

    @Test
    void scheduleOfWan480p() {
        UniPcFlowSampler s = new UniPcFlowSampler(UniPcFlowSampler.Config.WAN_480P);
        long[] t = s.timesteps(50);
        float[] sig = s.sigmas(50);
        assertEquals(999, t[0]);                      // σ = 1 moved to 1 − 1e-6
        assertEquals(51, sig.length);
        assertEquals(0f, sig[50]);
        for (int i = 1; i < 50; i++) assertTrue(t[i] <= t[i - 1] && sig[i] < sig[i - 1]);
        // shift 3 keeps the schedule high: the middle step is still above σ = 0.7
        assertTrue(sig[25] > 0.7f, "σ_25 = " + sig[25]);
    }

    @Test
    void configRejectsWhatItDoesNotImplement() {
        var ok = DiffusersSchedulerConfig.parse("{\"_class_name\":\"UniPCMultistepScheduler\",\"prediction_type\":\"flow_prediction\","
                + "\"use_flow_sigmas\":true,\"flow_shift\":5.0}");
        assertEquals(5.0, DiffusersSchedulerConfig.unipcFlow(ok).config().flowShift());
        var eps = DiffusersSchedulerConfig.parse("{\"prediction_type\":\"epsilon\",\"use_flow_sigmas\":true}");
        assertThrows(IllegalArgumentException.class, () -> DiffusersSchedulerConfig.unipcFlow(eps));
        var karras = DiffusersSchedulerConfig.parse("{\"prediction_type\":\"flow_prediction\",\"use_flow_sigmas\":true,\"use_karras_sigmas\":true}");
        assertThrows(IllegalArgumentException.class, () -> DiffusersSchedulerConfig.unipcFlow(karras));
        var unknown = DiffusersSchedulerConfig.parse("{\"prediction_type\":\"flow_prediction\",\"use_flow_sigmas\":true,\"frobnicate\":1}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiffusersSchedulerConfig.unipcFlow(unknown));
        assertTrue(e.getMessage().contains("frobnicate"));
    }
}
