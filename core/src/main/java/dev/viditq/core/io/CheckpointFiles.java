package dev.viditq.core.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** What every checkpoint format does first with its file: check that it can be read, and map it. */
final class CheckpointFiles {
    private CheckpointFiles() {}

    /** Throws a {@link CheckpointException} unless {@code path} is an existing, readable regular file. */
    public static void requireReadableFile(Path path) {
        if (!Files.exists(path)) throw new CheckpointException(path, "no such file");
        if (Files.isDirectory(path)) throw new CheckpointException(path, "is a directory, expected a checkpoint file");
        if (!Files.isRegularFile(path)) throw new CheckpointException(path, "is not a regular file");
        if (!Files.isReadable(path)) throw new CheckpointException(path, "is not readable (permissions?)");
    }

    /** The whole file mapped read-only into {@code arena}, as one 64-bit segment. */
    public static MemorySegment mapReadOnly(Path path, Arena arena) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot map: " + e.getMessage(), e);
        }
    }
}
