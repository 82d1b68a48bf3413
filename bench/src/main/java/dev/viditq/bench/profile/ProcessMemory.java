package dev.viditq.bench.profile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * This process's memory as Linux reports it in {@code /proc/self/status}: peak resident set (VmHWM), current resident
 * set (VmRSS) and its file-backed part (RssFile: pages of memory-mapped checkpoints) and anonymous part (RssAnon:
 * Java heap, native buffers, activations). Values in bytes; -1 where the kernel does not report them (not Linux).
 */
public record ProcessMemory(long peakRss, long rss, long rssFile, long rssAnon) {
    private static final Path STATUS = Path.of("/proc/self/status");

    public static ProcessMemory read() {
        Map<String, Long> kb = new HashMap<>();
        try {
            for (String line : Files.readAllLines(STATUS)) {
                int colon = line.indexOf(':');
                if (colon < 0 || !line.endsWith(" kB")) continue;
                String value = line.substring(colon + 1, line.length() - 3).trim();
                kb.put(line.substring(0, colon), Long.parseLong(value));
            }
        } catch (IOException | NumberFormatException e) {
            return new ProcessMemory(-1, -1, -1, -1);
        }
        return new ProcessMemory(bytes(kb, "VmHWM"), bytes(kb, "VmRSS"), bytes(kb, "RssFile"), bytes(kb, "RssAnon"));
    }

    private static long bytes(Map<String, Long> kb, String key) {
        Long v = kb.get(key);
        return v == null ? -1 : v * 1024;
    }
}
