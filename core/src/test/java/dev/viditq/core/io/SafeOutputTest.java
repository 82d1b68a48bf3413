package dev.viditq.core.io;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Outputs: regular files replaced atomically, special files and links refused unless forced, stale temporaries swept. */
class SafeOutputTest {
    @TempDir
    Path dir;

    private static void writeSmall(Path target) {
        SafetensorsWriter.write(target, Map.of("x", Tensor.of(new float[]{1, 2}, 2)));
    }

    @Test
    void aRegularFileIsReplacedAndNothingIsLeftBeside() throws IOException {
        Path out = dir.resolve("a.safetensors");
        Files.writeString(out, "old");
        SafeOutput.checkFile(out, false);
        writeSmall(out);
        assertTrue(Files.size(out) > 3);
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "only the output");
        }
    }

    @Test
    void aSymbolicLinkIsRefusedUnlessForcedThenItsTargetIsWritten() throws IOException {
        Path real = dir.resolve("real.safetensors");
        Files.writeString(real, "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), real.getFileName());
        SafeOutput.RefusedException e = assertThrows(SafeOutput.RefusedException.class, () -> SafeOutput.checkFile(link, false));
        assertTrue(e.getMessage().startsWith(link + ": is a symbolic link; refusing to replace it"), e.getMessage());
        assertThrows(SafeOutput.RefusedException.class, () -> writeSmall(link), "the writer refuses it too");
        SafeOutput.checkFile(link, true);
        writeSmall(link);
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertTrue(Files.size(real) > 3, "its target was written");
    }

    @Test
    void aFifoIsRefusedWithItsKind() throws Exception {
        Path fifo = dir.resolve("pipe");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
        SafeOutput.RefusedException e = assertThrows(SafeOutput.RefusedException.class, () -> SafeOutput.checkFile(fifo, false));
        assertTrue(e.getMessage().contains("is a FIFO (named pipe); refusing to replace it (--force writes into it)"), e.getMessage());
        assertThrows(SafeOutput.RefusedException.class, () -> writeSmall(fifo));
        assertFalse(Files.isRegularFile(fifo), "still a FIFO");
    }

    @Test
    void aDeviceIsNeverReplacedAndWrittenIntoOnlyWhenForced() {
        Path devNull = Path.of("/dev/null");
        assumeTrue(Files.exists(devNull));
        SafeOutput.RefusedException e = assertThrows(SafeOutput.RefusedException.class, () -> SafeOutput.checkFile(devNull, false));
        assertTrue(e.getMessage().contains("is a character device"), e.getMessage());
        SafeOutput.checkFile(devNull, true);
        writeSmall(devNull); // written into the device, not renamed over it
        assertFalse(Files.isRegularFile(devNull));
    }

    @Test
    void anUnwritableLocationIsFoundBeforeTheWork() {
        Path file = dir.resolve("file");
        assertDoesNotThrow(() -> Files.writeString(file, "x"));
        SafeOutput.RefusedException e = assertThrows(SafeOutput.RefusedException.class,
                () -> SafeOutput.checkFile(file.resolve("sub/out.png"), false));
        assertTrue(e.getMessage().contains("is not a folder"), e.getMessage());
        Path proc = Path.of("/proc/viditq-out.png");
        assumeTrue(Files.isDirectory(proc.getParent()));
        e = assertThrows(SafeOutput.RefusedException.class, () -> SafeOutput.checkFile(proc, false));
        assertTrue(e.getMessage().contains("cannot be written: creating a file in /proc fails"), e.getMessage());
        assertThrows(SafeOutput.RefusedException.class, () -> SafeOutput.checkFile(dir, false), "a folder is not a file");
        assertThrows(SafeOutput.RefusedException.class, () -> SafeOutput.checkFolder(file, false, false), "a file is not a folder");
    }

    @Test
    void temporariesOfDeadProcessesAndOfEarlierVersionsAreSwept() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path dead = dir.resolve(".out.safetensors." + gone.pid() + "-1f.viditq-tmp");
        Path deadFolder = dir.resolve(".q." + gone.pid() + "-2a.viditq-tmp");
        Path alive = dir.resolve(SafeOutput.tempName("other.png"));
        Path legacy = dir.resolve(".out.safetensors.0b1c2d3e-1111-2222-3333-444455556666.tmp");
        Path legacyOther = dir.resolve(".notes.txt.0b1c2d3e-1111-2222-3333-444455556666.tmp");
        Path userFile = dir.resolve(".hidden.tmp");
        for (Path p : new Path[]{dead, alive, legacy, legacyOther, userFile}) Files.writeString(p, "x");
        Files.createDirectories(deadFolder.resolve("sub"));
        SafeOutput.checkFile(dir.resolve("out.safetensors"), false);
        assertFalse(Files.exists(dead), "dead process's temporary");
        assertFalse(Files.exists(deadFolder), "dead process's temporary folder");
        assertFalse(Files.exists(legacy), "an earlier version's temporary of this output");
        assertTrue(Files.exists(alive), "this process's own temporary is in use");
        assertTrue(Files.exists(legacyOther), "unmarked temporaries of other files are not ours to judge");
        assertTrue(Files.exists(userFile));
    }

    @Test
    void aFailedWriteLeavesNothingAndKeepsTheOldFile() throws IOException {
        Path out = dir.resolve("keep.bin");
        Files.writeString(out, "old");
        assertThrows(IOException.class, () -> SafeOutput.write(out, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(out));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }
}
