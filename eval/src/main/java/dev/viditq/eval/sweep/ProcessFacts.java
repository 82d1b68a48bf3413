package dev.viditq.eval.sweep;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What Linux says about this process and machine (peak resident set, load average); -1 / "" elsewhere. */
final class ProcessFacts {
    private ProcessFacts() {}

    /** VmHWM of /proc/self/status in bytes: the most this process has ever had resident. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:") && line.endsWith(" kB")) {
                    return Long.parseLong(line.substring(6, line.length() - 3).trim()) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** The 1-, 5- and 15-minute load averages, e.g. "1.52 1.10 0.97"; "" when unknown. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "";
        } catch (IOException e) {
            return "";
        }
    }
}
