package dev.viditq.cli;

/**
 * Whether this command may replace what its outputs name (the global {@code --force}): an existing quantized folder,
 * a device or FIFO, a symbolic link. Set by {@link Main} for one command; read by every command that writes.
 */
final class OutputPolicy {
    static boolean force;

    private OutputPolicy() {}
}
