package dev.viditq.cli;

import dev.viditq.core.cuda.Cuda;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import dev.viditq.core.io.MemoryBudget;
import dev.viditq.quant.checkpoint.FolderSeal;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./viditq <command>}. Each command is its own class; register it in {@code subcommands} below.
 * Errors a user can cause (bad file, bad shape, bad config) print one line naming the problem and exit 1;
 * the stack trace is shown only with --verbose.
 */
@Command(name = "viditq", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
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

    /** Outputs: replace an existing quantized folder; write into a device or FIFO, or through a symbolic link. */
    @Option(names = "--force", scope = CommandLine.ScopeType.INHERIT, description = "Replace an existing output folder "
            + "(quantize); write into an output that is a device or FIFO, or through one that is a symbolic link (refused otherwise).")
    void force(boolean on) {
        OutputPolicy.force = on;
    }

    /** Quantized folders whose seal is missing or does not match load with a warning instead of being refused. */
    @Option(names = "--trust-unsealed", scope = CommandLine.ScopeType.INHERIT, description = "Load a quantized model folder "
            + "whose seal is missing or does not match (a warning instead of an error).")
    void trustUnsealed(boolean on) {
        if (on) System.setProperty(FolderSeal.TRUST_PROPERTY, "true");
    }

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

    @Option(names = "--device", scope = CommandLine.ScopeType.INHERIT, paramLabel = "cpu|cuda",
            description = "Where the model runs: cpu (default), or cuda (NVIDIA GPU 0: needs the driver and cuBLASLt 12 or 13; "
                    + "weights are copied to the GPU once, activations live in managed memory).")
    void device(String d) {
        if (d == null) return;
        switch (d) {
            case "cpu" -> Cuda.uninstall();
            case "cuda" -> {
                try {
                    Cuda.install();
                } catch (IllegalStateException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--device must be cpu or cuda, is " + d);
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
        OutputPolicy.force = false;
        System.clearProperty(FolderSeal.TRUST_PROPERTY); // set by --trust-unsealed for this command only
        Precision precisionBefore = KernelBackend.precision();
        try {
            return executeWithOptions(args);
        } finally {
            // --precision and --device hold for this call only (tests run several in one JVM)
            if (KernelBackend.precision() != precisionBefore) KernelBackend.usePrecision(precisionBefore);
            Cuda.uninstall();
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
        cl.setExecutionStrategy(parsed -> {
            OptionLimits.check(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) { // picocli hands only Exceptions to the handler above
            if (verbose) e.printStackTrace(System.err);
            System.err.println("error: " + (e instanceof OutOfMemoryError ? "out of memory (" + e.getMessage() + "): the input"
                    + " needs more than this JVM may use (" + MemoryBudget.describe() + "; VIDITQ_MAX_NATIVE and"
                    + " VIDITQ_JAVA_OPTS=-Xmx... raise the limits)" : "the input nests too deeply (stack overflow)"));
            return 1;
        }
    }
}
