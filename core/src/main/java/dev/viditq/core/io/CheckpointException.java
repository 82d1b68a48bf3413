package dev.viditq.core.io;

import java.nio.file.Path;

/**
 * A checkpoint that cannot be read or written. The message always starts with the file and, where the problem
 * belongs to one tensor, names it: {@code model.safetensors: tensor 'blocks.0.attn.qkv.weight' has ...}. It is
 * written for the user of the CLI, who sees it as one line without a stack trace.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }

    /** A problem of one named tensor of {@code file}. */
    public static CheckpointException tensor(Path file, String tensor, String problem) {
        return new CheckpointException(file, "tensor '" + tensor + "' " + problem);
    }

    /** A problem of one named tensor of {@code file}, caused by {@code cause}. */
    public static CheckpointException tensor(Path file, String tensor, String problem, Throwable cause) {
        return new CheckpointException(file, "tensor '" + tensor + "' " + problem, cause);
    }
}
