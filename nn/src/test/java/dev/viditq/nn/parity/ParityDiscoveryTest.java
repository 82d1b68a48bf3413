package dev.viditq.nn.parity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Case folders are found at any depth, and a nested one is named by the longest handler name its path ends with. */
class ParityDiscoveryTest {
    @Test
    void findsNestedCasesAndNamesThemByHandler(@TempDir Path root) throws Exception {
        for (String dir : new String[]{"schedulers/unipc_flow", "dit", "group/a", "group/b/deeper", "empty"}) {
            Files.createDirectories(root.resolve(dir));
            if (!dir.equals("empty")) Files.writeString(root.resolve(dir).resolve("io.safetensors"), "");
        }
        List<String> found = Parity.caseDirs(root).stream().map(d -> root.relativize(d).toString()).toList();
        assertEquals(List.of("dit", "group/a", "group/b/deeper", "schedulers/unipc_flow"), found);
        assertEquals("schedulers/unipc_flow", Parity.caseName(root.resolve("schedulers/unipc_flow")));
        assertEquals("a", Parity.caseName(root.resolve("group/a")));
        List<Parity.Result> r = Parity.runCase(root.resolve("group/a"));
        assertEquals("no handler for case 'a'", r.getFirst().error());
        // the registered scheduler handler is found for the nested folder (and fails on the empty file, not for want of one)
        assertNotEquals("no handler for case 'schedulers/unipc_flow'",
                Parity.runCase(root.resolve("schedulers/unipc_flow")).getFirst().error());
    }
}
