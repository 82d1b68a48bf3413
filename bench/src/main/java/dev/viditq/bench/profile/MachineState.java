package dev.viditq.bench.profile;

import dev.viditq.bench.kernels.BenchConfig;
import dev.viditq.bench.kernels.Ceilings;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What else shapes a measurement on a shared machine: the load average, and the FP32 FMA rate a register-only loop
 * reaches right now with the benchmark's thread count (other processes slow it down exactly as they slow the model);
 * the CPU time a hypervisor took from this guest's vCPUs (steal); the JVM's options (heap and direct-memory limits
 * decide how much garbage native memory the RSS carries).
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

    /**
     * Every vCPU's time counters from /proc/stat (Linux), empty elsewhere. Subtract two with {@link CpuTimes#stealSince}
     * for the share of an interval the hypervisor ran something else while a vCPU wanted to run: a many-thread call
     * waits for its slowest thread, so one vCPU stolen from often slows every call.
     */
    public static Optional<CpuTimes> cpuTimes() {
        try {
            return Optional.of(CpuTimes.parse(Files.readString(Path.of("/proc/stat"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Per vCPU, all its time and the stolen part of it, in the kernel's clock ticks since boot. */
    public record CpuTimes(long[] total, long[] steal) {
        /** Field of a /proc/stat "cpuN" line (after the name) that counts steal: user nice system idle iowait irq softirq steal. */
        private static final int STEAL_FIELD = 7;

        /** The "cpuN" lines of a /proc/stat text (the aggregate "cpu" line is skipped). */
        static CpuTimes parse(String procStat) {
            List<long[]> rows = new ArrayList<>();
            for (String line : procStat.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length <= STEAL_FIELD + 1 || !f[0].matches("cpu\\d+")) continue;
                long total = 0;
                for (int i = 1; i <= STEAL_FIELD + 1; i++) total += Long.parseLong(f[i]);   // guest time is inside user
                rows.add(new long[]{total, Long.parseLong(f[STEAL_FIELD + 1])});
            }
            if (rows.isEmpty()) throw new IllegalArgumentException("no cpuN lines with a steal field in /proc/stat");
            return new CpuTimes(rows.stream().mapToLong(r -> r[0]).toArray(), rows.stream().mapToLong(r -> r[1]).toArray());
        }

        /** The steal between {@code earlier} and this, or empty when the vCPUs changed or no time passed. */
        public Optional<Steal> stealSince(CpuTimes earlier) {
            if (earlier.total.length != total.length) return Optional.empty();
            long allTotal = 0, allSteal = 0;
            double worst = 0;
            for (int c = 0; c < total.length; c++) {
                long t = total[c] - earlier.total[c], st = steal[c] - earlier.steal[c];
                allTotal += t;
                allSteal += st;
                if (t > 0) worst = Math.max(worst, (double) st / t);
            }
            return allTotal <= 0 ? Optional.empty() : Optional.of(new Steal((double) allSteal / allTotal, worst));
        }
    }

    /**
     * CPU time stolen in an interval: {@code fraction} of all vCPUs' time together, {@code worstCpuFraction} of the
     * most-stolen vCPU's own time.
     */
    public record Steal(double fraction, double worstCpuFraction) {
        /** "0.4%, most on one vCPU 2.1%". */
        public String describe() {
            return String.format(Locale.ROOT, "%.1f%%, most on one vCPU %.1f%%", 100 * fraction, 100 * worstCpuFraction);
        }
    }

    /** The JVM's own options, space-separated. */
    public static String jvmOptions() {
        return String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments());
    }
}
