package dev.viditq.cli;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./viditq <command>}. Each command is its own class; register it in {@code subcommands} below.
 * Errors a user can cause (bad file, bad shape, bad config) print one line naming the problem and exit 1;
 * the stack trace is shown only with --verbose.
 */
@Command(name = "viditq", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run, quantize (ViDiT-Q) and measure diffusion transformers.",
        subcommands = {
                InfoCommand.class,
                ParityCommand.class,
                ForwardCommand.class,
                InspectCommand.class,
                ConvertCommand.class,
                BenchCommand.class,
                ExportCommand.class,
                ShapesCommand.class,
                GenerateCommand.class,
                CalibrateCommand.class,
                QuantizeCommand.class,
                SensitivityCommand.class,
                SearchCommand.class,
                EvalCommand.class,
                DemoCommand.class,
                SweepCommand.class,
                ReportCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Show stack traces on errors.")
    static boolean verbose;

    /** Quantized folders then run their plan quantize-dequantize in float instead of on the integer kernels. */
    @Option(names = "--simulate", scope = CommandLine.ScopeType.INHERIT,
            description = "Run quantized models in float simulation (same plan, quantize-dequantize) instead of integer kernels.")
    void simulate(boolean on) {
        if (on) System.setProperty("viditq.quant.mode", "simulate");
    }

    @Option(names = "--precision", scope = CommandLine.ScopeType.INHERIT, paramLabel = "fp32|bf16|auto",
            description = "Float arithmetic: fp32, or bf16 (GEMMs and attention as bf16 x bf16 -> fp32, on AMX-BF16 or "
                    + "AVX512-BF16). Default auto: bf16 where the CPU has one of these units, else fp32. Golden parity "
                    + "always runs in fp32.")
    void precision(String p) {
        if (p == null) return;
        try {
            KernelBackend.usePrecision(Precision.parse(p));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        verbose = false; // static: picocli would keep a previous call's --verbose as the "initial" value
        Precision precisionBefore = KernelBackend.precision();
        try {
            return executeWithOptions(args);
        } finally {
            // --precision holds for this call only (tests run several in one JVM)
            if (KernelBackend.precision() != precisionBefore) KernelBackend.usePrecision(precisionBefore);
        }
    }

    private static int executeWithOptions(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable root = ex;
            if (verbose) {
                ex.printStackTrace(System.err);
            } else {
                String msg = root.getMessage() == null ? root.toString() : root.getMessage();
                System.err.println("error: " + msg);
            }
            return 1;
        });
        return cl.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"viditq " + (v == null ? "dev" : v)};
        }
    }
}
