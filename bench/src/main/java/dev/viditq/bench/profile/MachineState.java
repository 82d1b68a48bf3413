package dev.viditq.bench.profile;

import dev.viditq.bench.kernels.BenchConfig;
import dev.viditq.bench.kernels.Ceilings;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What else shapes a measurement on a shared machine: the load average, and the FP32 FMA rate a register-only loop
 * reaches right now with the benchmark's thread count (other processes slow it down exactly as they slow the model);
 * the JVM's options (heap and direct-memory limits decide how much garbage native memory the RSS carries).
 */
public final class MachineState {
    private MachineState() {}

    /** The 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** GFLOP/s of the FP32 FMA ceiling loop on {@code threads} threads (about 1.5 s). */
    public static double fmaCeilingGflops(int threads) {
        return Ceilings.fp32Fma(new BenchConfig(List.of(threads), false), threads);
    }

    /** The JVM's own options, space-separated. */
    public static String jvmOptions() {
        return String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments());
    }
}
