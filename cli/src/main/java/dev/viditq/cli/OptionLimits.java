package dev.viditq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.Map;

/**
 * Sane ranges of the numeric options every command shares by name, checked once for the whole command line before
 * any command runs: {@code --count -3} is "--count must be between 1 and 1000000, got -3", never an exception from
 * deep inside. Upper bounds only stop absurd values early; what a model can afford (size × frames × batch against
 * memory) is checked by the pipeline with the model in hand.
 */
final class OptionLimits {
    private record Range(long min, long max) {}

    private static final long MANY = 1_000_000;
    private static final Map<String, Range> RANGES = Map.ofEntries(
            Map.entry("--count", new Range(1, MANY)),
            Map.entry("--calibration-count", new Range(1, MANY)),
            Map.entry("--steps", new Range(1, 100_000)),
            Map.entry("--frames", new Range(0, 100_000)), // export onnx: 0 = the config's
            Map.entry("--batch", new Range(1, 4096)),
            Map.entry("--threads", new Range(1, 4096)),
            Map.entry("--rounds", new Range(1, MANY)),
            Map.entry("--rows", new Range(1, MANY)),
            Map.entry("--sheet", new Range(0, 10_000)),
            Map.entry("--images", new Range(0, 10_000)),
            Map.entry("--videos", new Range(0, 10_000)),
            Map.entry("--height", new Range(0, 100_000)),
            Map.entry("--width", new Range(0, 100_000)));

    private OptionLimits() {}

    /** Throws a parameter error for the first option of {@code parsed} (any subcommand level) outside its range. */
    static void check(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult level = parsed; level != null; level = level.subcommand()) {
            for (OptionSpec option : level.matchedOptions()) {
                Range r = RANGES.get(option.longestName());
                if (r != null && option.getValue() instanceof Number n && (n.longValue() < r.min || n.longValue() > r.max)) {
                    throw new CommandLine.ParameterException(level.commandSpec().commandLine(), option.longestName()
                            + " must be between " + r.min + " and " + r.max + ", got " + n);
                }
            }
        }
    }
}
