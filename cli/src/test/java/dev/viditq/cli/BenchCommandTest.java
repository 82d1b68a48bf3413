package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./viditq bench kernels --quick --json}: one JSON object on stdout with one row per kernel and thread count. */
class BenchCommandTest {
    private static final List<String> FIELDS = List.of("kernel", "m", "n", "k", "threads", "value", "unit", "ceiling", "ratio");

    @Test
    void quickJsonRunPrintsOneObjectWithEveryField() throws Exception {
        CliRun r = CliRun.run("bench", "kernels", "--quick", "--json", "--threads", "1,2", "--only", "ceilings,gemm,attention");
        JsonNode root = r.json();   // fails unless stdout is pure JSON
        assertEquals(Set.of("results"), fieldNames(root));
        Set<String> kernels = new HashSet<>();
        for (JsonNode row : root.get("results")) {
            assertEquals(new HashSet<>(FIELDS), fieldNames(row), row.toString());
            assertTrue(row.get("value").asDouble() > 0, row.toString());
            assertTrue(row.get("threads").asInt() == 1 || row.get("threads").asInt() == 2, row.toString());
            kernels.add(row.get("kernel").asText());
        }
        assertTrue(kernels.containsAll(Set.of("ceiling-fp32-fma", "gemm-f32", "gemm-bf16", "gemm-f16", "attention")), kernels.toString());
        assertTrue(r.err().contains("gemm-bf16"), "the table goes to stderr with --json");
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
