package dev.viditq.cli;

import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A run killed outright (SIGKILL: no cleanup runs) leaves its temporary behind; the next run writing into the same
 * folder removes it. Real child JVMs, real kills: part of the extended abuse suite (dev/abuse).
 */
class KilledRunTest {
    @TempDir
    Path dir;

    @Test
    void aKilledConvertsTemporaryIsSweptByTheNextRun() throws Exception {
        assumeExtended();
        Path big = dir.resolve("big.safetensors");
        SafetensorsWriter.write(big, Map.of("w", Tensor.zeros(160L << 20 >> 2))); // 160 MiB of F32
        Path out = dir.resolve("out").resolve("big-bf16.safetensors");
        Files.createDirectories(out.getParent());
        Path temp = killWhenATemporaryAppears(out.getParent(), "convert", big.toString(), out.toString(), "--dtype", "bf16");
        assertTrue(Files.exists(temp), "the killed run left " + temp);
        CliRun again = CliRun.run("convert", big.toString(), out.toString(), "--dtype", "bf16");
        assertEquals(0, again.code(), again.err());
        assertFalse(Files.exists(temp), "swept: " + temp);
        assertEquals(List.of("big-bf16.safetensors"), names(out.getParent()));
    }

    @Test
    void aKilledQuantizesTemporaryFolderIsSweptByTheNextRun() throws Exception {
        assumeExtended();
        Path out = dir.resolve("q");
        Path temp = killWhenATemporaryAppears(dir, "quantize", "--model", AbuseCases.T2I.toString(), "--preset", "quarot-w8a8",
                "--out", out.toString());
        assertTrue(Files.isDirectory(temp), "the killed run left the folder " + temp);
        CliRun again = CliRun.run("quantize", "--model", AbuseCases.T2I.toString(),
                "--preset", "quarot-w8a8", "--out", dir.resolve("q2").toString());
        assertEquals(0, again.code(), again.err());
        assertFalse(Files.exists(temp), "swept: " + temp);
    }

    private static void assumeExtended() {
        assumeTrue(System.getProperty("viditq.abuse", "").contains("extended"), "part of the extended abuse suite (dev/abuse)");
    }

    /** Starts the command in a child JVM, SIGKILLs it as soon as a temporary of ours appears in {@code watch}. */
    private Path killWhenATemporaryAppears(Path watch, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(AbuseSuiteTest.CHILD_JVM);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline && p.isAlive()) {
            Optional<Path> temp = temporary(watch);
            if (temp.isPresent()) {
                p.destroyForcibly(); // SIGKILL: no finally block, no shutdown hook
                p.waitFor();
                return temp.get();
            }
            Thread.sleep(20);
        }
        p.destroyForcibly();
        fail("no temporary appeared before the run " + (p.isAlive() ? "timed out" : "ended") + ": " + Files.readString(dir.resolve("killed.log")));
        return null;
    }

    private static Optional<Path> temporary(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".viditq-tmp") && !p.getFileName().toString().startsWith(".probe")).findFirst();
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
