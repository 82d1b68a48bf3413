package dev.viditq.bench.e2e;

import dev.viditq.core.cuda.Cuda;
import dev.viditq.core.kernels.KernelBackend;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one {@link E2eRequest} in a fresh JVM ({@link E2eWorker}) so that its peak RSS is its own, not mixed with
 * an earlier setting's or with writing the random checkpoint. The child gets this JVM's own options (module and
 * native-access flags, -Xmx, -D properties) and class path; its stderr goes to ours.
 */
public final class ForkedRun {
    private ForkedRun() {}

    /** @param extraJvmOptions added to the child's options (e.g. a flight recording) */
    public static E2eResult run(E2eRequest req, List<String> extraJvmOptions, PrintStream log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(jvmOptions());
        cmd.addAll(extraJvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(E2eWorker.class.getName());
        cmd.addAll(List.of(req.toArgs()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        try {
            Process p = pb.start();
            E2eResult result = null;
            String error = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith(E2eWorker.RESULT_PREFIX)) result = E2eResult.fromJson(line.substring(E2eWorker.RESULT_PREFIX.length()));
                    else if (line.startsWith(E2eWorker.ERROR_PREFIX)) error = line.substring(E2eWorker.ERROR_PREFIX.length());
                    else log.println(line);
                }
            }
            int status = p.waitFor();
            if (error != null) throw new IllegalStateException(error);
            if (result == null || status != 0) {
                throw new IllegalStateException("the benchmark process for " + req.arch().name() + " " + req.setting().label()
                        + " (" + req.engine().label() + ") exited with status " + status + " without a result");
            }
            return result;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a benchmark process (" + cmd.getFirst() + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while benchmarking", e);
        }
    }

    private static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** This JVM's options minus those that must not be doubled (debug agents, flight recordings, -jar). */
    private static List<String> jvmOptions() {
        List<String> opts = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib") || a.startsWith("-javaagent") || a.startsWith("-XX:StartFlightRecording")) continue;
            if (a.startsWith("-Dviditq.precision=") || a.startsWith("-Dviditq.device=")) continue;
            opts.add(a);
        }
        opts.add("-Dviditq.precision=" + KernelBackend.precision());   // as set by --precision, which is no JVM option
        if (Cuda.session().isPresent()) opts.add("-Dviditq.device=cuda"); // as set by --device
        return opts;
    }
}
