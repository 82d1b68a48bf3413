package dev.viditq.cli;

import picocli.CommandLine;

import java.util.List;

/**
 * How a command's pieces reach the workers: each task carries the command line the user typed, and the worker parses
 * it into the same command object (inherited options such as --precision and --simulate take effect there too), so a
 * worker rebuilds exactly the inputs the driver has without a serialized copy of them. Paths in it must name what
 * every worker sees (absolute paths on a shared file system; relative ones resolve in each worker's directory).
 */
final class Distributed {
    private Distributed() {}

    /** The whole command line of the running command. */
    static String[] commandLine(CommandLine.Model.CommandSpec spec) {
        List<String> args = spec.root().commandLine().getParseResult().originalArgs();
        return args.toArray(String[]::new);
    }

    /** {@code args} parsed again into a fresh command object of {@code type} (on a worker). */
    static <C> C reparse(String[] args, Class<C> type) {
        CommandLine cl = new CommandLine(new Main());
        CommandLine.ParseResult pr = cl.parseArgs(args);
        while (pr.hasSubcommand()) pr = pr.subcommand();
        Object command = pr.commandSpec().userObject();
        if (!type.isInstance(command)) throw new IllegalStateException("task for " + type.getSimpleName() + " got the command line of " + command.getClass().getSimpleName());
        return type.cast(command);
    }

    /** The key under which workers keep what {@code args} loaded. */
    static String key(String what, String[] args) {
        return what + "\u0000" + String.join("\u0000", args);
    }
}
