package dev.viditq.bench.profile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MachineStateTest {
    private static final String BEFORE = """
            cpu  300 0 30 600 0 0 0 70 5 0
            cpu0 100 0 10 200 0 0 0 10 5 0
            cpu1 200 0 20 400 0 0 0 60 0 0
            intr 12345 0 0
            ctxt 999
            """;
    private static final String AFTER = """
            cpu  500 0 50 800 0 0 0 150 5 0
            cpu0 150 0 15 340 0 0 0 15 5 0
            cpu1 350 0 35 460 0 0 0 135 0 0
            intr 12399 0 0
            """;

    @Test
    void readsEveryVcpusTimeAndSteal() {
        MachineState.CpuTimes t = MachineState.CpuTimes.parse(BEFORE);
        // user + nice + system + idle + iowait + irq + softirq + steal; guest is inside user, not added again
        assertArrayEquals(new long[]{320, 680}, t.total());
        assertArrayEquals(new long[]{10, 60}, t.steal());
    }

    @Test
    void stealIsTheStolenShareOfTheInterval() {
        MachineState.Steal s = MachineState.CpuTimes.parse(AFTER).stealSince(MachineState.CpuTimes.parse(BEFORE)).orElseThrow();
        // cpu0: 200 ticks, 5 stolen; cpu1: 300 ticks, 75 stolen
        assertEquals(80.0 / 500, s.fraction(), 1e-12);
        assertEquals(75.0 / 300, s.worstCpuFraction(), 1e-12);
        assertEquals("16.0%, most on one vCPU 25.0%", s.describe());
    }

    @Test
    void noIntervalOrOtherVcpusGiveNoFigure() {
        MachineState.CpuTimes t = MachineState.CpuTimes.parse(BEFORE);
        assertTrue(t.stealSince(t).isEmpty(), "no time passed");
        MachineState.CpuTimes one = MachineState.CpuTimes.parse("cpu0 1 0 1 1 0 0 0 0 0 0\n");
        assertTrue(t.stealSince(one).isEmpty(), "vCPUs came or went");
    }

    @Test
    void aStatWithoutPerCpuStealIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> MachineState.CpuTimes.parse("cpu 1 2 3 4\nintr 5\n"));
    }
}
