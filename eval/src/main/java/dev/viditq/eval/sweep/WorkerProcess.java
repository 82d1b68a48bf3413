package dev.viditq.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Starts {@link SweepWorker} in a fresh JVM with this JVM's options and class path (as the e2e benchmark's forked
 * runs do), relays its progress lines and returns its result. Its stderr (kernel announcements, errors) goes to ours.
 */
final class WorkerProcess {
    /** Properties set at run time (not on the command line) that the child must see, e.g. by --simulate. */
    private static final List<String> FORWARDED_PROPERTIES = List.of("viditq.quant.mode", "viditq.home");
    /**
     * Memory bounds of the evaluation JVMs, appended after the inherited options (the last one wins). Without them
     * each child takes the JVM defaults (heap up to 1/4 of RAM) plus the launcher's 3 GB activation cap — 4-7 GB of
     * mostly uncollected garbage for these small models, which both hides the model's own memory in the peak RSS and
     * gets children killed on a shared 24 GB machine. Override with -Dviditq.sweep.worker-options="...".
     */
    static final String OPTIONS_PROPERTY = "viditq.sweep.worker-options", DEFAULT_OPTIONS = "-Xmx1g -XX:MaxDirectMemorySize=2g";

    /** Kernel threads of each evaluation JVM, set by a cluster task to its share of the node's cores. */
    static final String THREADS_PROPERTY = "viditq.sweep.worker-threads";

    private WorkerProcess() {}

    static JsonNode run(SweepWorker.Job job, BiConsumer<Integer, Integer> progress) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(jvmOptions());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SweepWorker.class.getName());
        cmd.addAll(job.toArgs());
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            JsonNode result = null;
            String error = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith(SweepWorker.RESULT)) result = Sweep.JSON.readTree(line.substring(SweepWorker.RESULT.length()));
                    else if (line.startsWith(SweepWorker.ERROR)) error = line.substring(SweepWorker.ERROR.length());
                    else if (line.startsWith(SweepWorker.PROGRESS)) {
                        String[] f = line.substring(SweepWorker.PROGRESS.length()).split(" ");
                        progress.accept(Integer.parseInt(f[0]), Integer.parseInt(f[1]));
                    } else System.err.println(line);
                }
            }
            int status = p.waitFor();
            if (error != null) throw new IllegalStateException("setting " + job.name() + ": " + error);
            if (result == null || status != 0) {
                throw new IllegalStateException("the evaluation process of setting " + job.name() + " exited with status " + status + " without a result");
            }
            return result;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the evaluation process (" + cmd.getFirst() + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while evaluating " + job.name(), e);
        }
    }

    static List<String> memoryOptions() {
        String o = System.getProperty(OPTIONS_PROPERTY, DEFAULT_OPTIONS).strip();
        return o.isEmpty() ? List.of() : List.of(o.split("\\s+"));
    }

    private static String javaExecutable() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** This JVM's options minus agents and recordings (not to be doubled), plus the forwarded properties. */
    private static List<String> jvmOptions() {
        List<String> opts = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib") || a.startsWith("-javaagent") || a.startsWith("-XX:StartFlightRecording")) continue;
            if (FORWARDED_PROPERTIES.stream().anyMatch(k -> a.startsWith("-D" + k + "="))) continue;
            opts.add(a);
        }
        for (String k : FORWARDED_PROPERTIES) {
            String v = System.getProperty(k);
            if (v != null) opts.add("-D" + k + "=" + v);
        }
        opts.addAll(memoryOptions());
        // a cluster task's share of the cores (several settings evaluate at once on one node)
        String threads = System.getProperty(THREADS_PROPERTY);
        if (threads != null) opts.add("-Dviditq.threads=" + threads);
        return opts;
    }
}
