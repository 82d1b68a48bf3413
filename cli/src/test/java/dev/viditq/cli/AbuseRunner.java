package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Runs abuse cases through {@link Main#execute} inside a child JVM started with the suite's memory bound
 * ({@code -Xmx1g -XX:MaxDirectMemorySize=1g}): {@code AbuseRunner CASES.json RESULTS.json}. For each case it records
 * the exit code, stdout, stderr, the wall and CPU time, the machine's load and what appeared in the case's watched folder (leftovers). The parent
 * ({@link AbuseSuiteTest}) judges the results, so a case that kills this JVM shows up as a missing result.
 */
public final class AbuseRunner {
    private AbuseRunner() {}

    /** One case as the runner needs it (written by {@link AbuseCases}). */
    record Case(String name, List<String> args, Path watch) {
        ObjectNode toJson() {
            ObjectNode o = Json.object();
            o.put("name", name);
            ArrayNode a = o.putArray("args");
            args.forEach(a::add);
            o.put("watch", watch.toString());
            return o;
        }

        static Case fromJson(JsonNode o) {
            List<String> args = new ArrayList<>();
            o.get("args").forEach(a -> args.add(a.asText()));
            return new Case(o.get("name").asText(), args, Path.of(o.get("watch").asText()));
        }
    }

    public static void main(String[] argv) throws IOException {
        JsonNode cases = Json.MAPPER.readTree(Path.of(argv[0]).toFile());
        Path results = Path.of(argv[1]);
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (JsonNode c : cases) {
            out.add(run(Case.fromJson(c)));
            Files.writeString(results, Json.MAPPER.writeValueAsString(out)); // after every case: a crash keeps the others
        }
    }

    private static ObjectNode run(Case c) throws IOException {
        Set<String> before = listing(c.watch());
        long start = System.nanoTime(), cpuStart = cpuNanos();
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        CliRun r = CliRun.run(c.args().toArray(String[]::new));
        double seconds = (System.nanoTime() - start) / 1e9, cpuSeconds = (cpuNanos() - cpuStart) / 1e9;
        Set<String> after = listing(c.watch());
        after.removeAll(before);
        ObjectNode o = Json.object();
        o.put("name", c.name());
        o.put("code", r.code());
        o.put("out", r.out().length() > 4000 ? r.out().substring(0, 4000) : r.out());
        o.put("err", r.err());
        o.put("seconds", seconds);
        o.put("cpu_seconds", cpuSeconds);
        o.put("load_per_core", load / Runtime.getRuntime().availableProcessors());
        ArrayNode left = o.putArray("new_files");
        after.forEach(left::add);
        return o;
    }

    /** CPU time of this whole process (all threads, the JIT and GC included). */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Every path under {@code dir}, hidden ones included. */
    static Set<String> listing(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.forEach(p -> out.add(dir.relativize(p).toString()));
        }
        return out;
    }
}
