package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The abuse suite: every hostile or absurd input of {@link AbuseCases} goes through the real CLI in a child JVM bound
 * to 1 GB of heap and 1 GB of native memory, and must end in the expected exit code with a message naming the file
 * and the problem, no stack trace, no file left behind, within {@value #SECONDS} seconds (of wall time; of CPU time
 * when the machine runs more than {@value #OVERLOAD} threads a core, where wall time measures the neighbours). CI runs the fast set;
 * {@code -Dviditq.abuse=extended} (dev/abuse) runs the exhaustive one.
 */
class AbuseSuiteTest {
    static final double SECONDS = 10;
    static final double OVERLOAD = 2;
    static final List<String> CHILD_JVM = List.of("-Xmx1g", "-XX:MaxDirectMemorySize=1g", "-XX:+UseSerialGC");

    @TempDir
    Path dir;

    @Test
    void fastSetEndsInNamedErrorsWithinBounds() throws Exception {
        judge(runInChild(AbuseCases.fast(dir)));
    }

    @Test
    void extendedSet() throws Exception {
        assumeTrue(System.getProperty("viditq.abuse", "").contains("extended"), "the extended set runs with -Dviditq.abuse=extended (dev/abuse)");
        judge(runInChild(AbuseCases.extended(dir)));
    }

    @Test
    void asideSet() throws Exception {
        assumeTrue(System.getProperty("viditq.abuse", "").contains("aside"), "the set kept aside runs with -Dviditq.abuse=aside");
        judge(runInChild(AbuseCases.aside(dir)));
    }

    record Outcome(AbuseCases.Spec spec, JsonNode result) {}

    /** Runs the cases in one child JVM under the suite's memory bound; pairs each case with its result (null: none). */
    List<Outcome> runInChild(List<AbuseCases.Spec> specs) throws IOException, InterruptedException {
        ArrayNode cases = Json.MAPPER.createArrayNode();
        specs.forEach(s -> cases.add(s.run().toJson()));
        Path casesFile = dir.resolve("cases.json"), resultsFile = dir.resolve("results.json");
        Files.writeString(casesFile, Json.MAPPER.writeValueAsString(cases));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(CHILD_JVM);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AbuseRunner.class.getName(), casesFile.toString(),
                resultsFile.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        if (!p.waitFor((long) (specs.size() * SECONDS + 120), TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
        Map<String, JsonNode> byName = new HashMap<>();
        if (Files.exists(resultsFile)) Json.MAPPER.readTree(resultsFile.toFile()).forEach(r -> byName.put(r.get("name").asText(), r));
        List<Outcome> out = new ArrayList<>();
        for (AbuseCases.Spec s : specs) out.add(new Outcome(s, byName.get(s.run().name())));
        return out;
    }

    /** Every case must meet its expectation; all failures are reported together. */
    static void judge(List<Outcome> outcomes) {
        List<String> failures = new ArrayList<>();
        StringBuilder table = new StringBuilder();
        for (Outcome o : outcomes) {
            String problem = problem(o);
            JsonNode r = o.result();
            table.append(String.format(java.util.Locale.ROOT, "%-6s %6.2f s wall %6.2f s cpu  %s%n", problem == null ? "ok" : "FAIL",
                    r == null ? Double.NaN : r.get("seconds").asDouble(), r == null ? Double.NaN : r.get("cpu_seconds").asDouble(),
                    o.spec().run().name()));
            if (problem != null) failures.add(o.spec().run().name() + ": " + problem);
        }
        System.out.print(table);
        Path devFull = Path.of("/dev/full");
        if (Files.exists(devFull, LinkOption.NOFOLLOW_LINKS)) assertTrue(!Files.isRegularFile(devFull, LinkOption.NOFOLLOW_LINKS), "/dev/full was replaced");
        if (!failures.isEmpty()) fail(failures.size() + " of " + outcomes.size() + " cases failed:\n" + String.join("\n", failures));
    }

    private static String problem(Outcome o) {
        JsonNode r = o.result();
        AbuseCases.Expect e = o.spec().expect();
        if (r == null) return "no result (the child JVM died or timed out)";
        String err = r.get("err").asText();
        if (r.get("code").asInt() != e.code()) return "exit " + r.get("code").asInt() + ", expected " + e.code() + "; stderr: " + tail(err);
        boolean overloaded = r.get("load_per_core").asDouble() > OVERLOAD;
        double seconds = overloaded ? r.get("cpu_seconds").asDouble() : r.get("seconds").asDouble();
        if (seconds > SECONDS) return "took " + seconds + (overloaded ? " s of CPU" : " s");
        if (err.contains("\tat ") || err.contains("Exception in thread")) return "a stack trace on stderr: " + tail(err);
        for (String f : e.contains()) if (!err.contains(f)) return "stderr lacks '" + f + "': " + tail(err);
        for (String f : e.absent()) if (err.contains(f)) return "stderr shows '" + f + "': " + tail(err);
        List<String> left = new ArrayList<>();
        r.get("new_files").forEach(n -> {
            if (!e.allowedNew().contains(n.asText())) left.add(n.asText());
        });
        if (!left.isEmpty()) return "left files behind: " + left;
        for (Path gone : e.gone()) if (Files.exists(gone, LinkOption.NOFOLLOW_LINKS)) return gone + " is still there";
        return null;
    }

    private static String tail(String s) {
        return s.length() > 600 ? "…" + s.substring(s.length() - 600) : s;
    }
}
