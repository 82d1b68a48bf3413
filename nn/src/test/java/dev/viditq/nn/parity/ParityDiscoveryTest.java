package dev.viditq.nn.parity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Case folders are found at the top and one level down in a group folder, and named by their path under the root. */
class ParityDiscoveryTest {
    @Test
    void findsTopLevelAndGroupedCases(@TempDir Path root) throws Exception {
        for (String dir : new String[]{"schedulers/unipc_flow", "dit/inner", "group/a", "group/b/too_deep", "empty"}) {
            Files.createDirectories(root.resolve(dir));
        }
        // a folder that is a case itself is not searched further (dit/inner); a group folder without one is
        for (String dir : new String[]{"schedulers/unipc_flow", "dit", "dit/inner", "group/a", "group/b", "group/b/too_deep"}) {
            Files.writeString(root.resolve(dir).resolve("io.safetensors"), "");
        }
        List<String> names = Parity.caseDirs(root).stream().map(d -> Parity.caseName(root, d)).toList();
        assertEquals(List.of("dit", "group/a", "group/b", "schedulers/unipc_flow"), names.stream().sorted().toList());
        List<Parity.Result> r = Parity.runCase(root, root.resolve("group/a"));
        assertEquals("group/a", r.getFirst().caseName());
        assertEquals("no handler for case 'group/a'", r.getFirst().error());
    }
}
