package dev.viditq.core.kernels;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps the C1 compiler away from Vector API kernels, so HotSpot compiles them with C2 only.
 *
 * <p>Why: C1 does not intrinsify the Vector API; C1 code for a kernel allocates an object per vector operation and
 * runs 100-200× slower than C2 code. With tiered compilation a method normally passes through C1 briefly, but when
 * the C2 queue is long (start-up, a busy machine) HotSpot compiles it at tier 2; for our large register-tile
 * kernels the later tier-3 compile fails (C1 runs out of virtual registers) and the method was observed to stay
 * in tier-2 code for minutes: a GEMM at 0.5 instead of 90 GFLOP/s. Excluding C1 makes the interpreter hand them
 * straight to C2. Done at run time through the {@code Compiler.directives_add} diagnostic command (the same as
 * {@code jcmd <pid> Compiler.directives_add}), so no JVM flag is needed; a JVM without it gets a one-line warning
 * (the remedy there: {@code -XX:-TieredCompilation}, or {@code -XX:Tier3DelayOn=100000}).
 */
public final class JitDirectives {
    private static final Set<String> added = new HashSet<>();

    private JitDirectives() {}

    /**
     * Excludes the named methods of {@code owner} from C1 ({@code "*"}: all of them; a trailing {@code *} matches a
     * prefix, e.g. {@code "lambda$*"} for the lambda bodies). Meant for methods whose loops are Vector API code and
     * that run often (micro-kernels, per-chunk loops); leave out drivers called a few times per kernel call: without
     * C1 they stay interpreted until C2 takes them. Idempotent; call it from a static initialiser before the first
     * call.
     */
    public static synchronized void c2Only(Class<?> owner, String... methods) {
        String type = owner.getName().replace('.', '/');
        Set<String> patterns = Arrays.stream(methods).map(m -> type + "." + m)
                .filter(added::add)
                .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
        if (patterns.isEmpty()) return;
        String match = patterns.stream().map(p -> '"' + p + '"').collect(Collectors.joining(", "));
        String json = "[{ match: [" + match + "], c1: { Exclude: true } }]";
        try {
            Path file = Files.createTempFile("viditq-jit", ".json");
            try {
                Files.writeString(file, json);
                ManagementFactory.getPlatformMBeanServer().invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                        new Object[]{new String[]{file.toString()}}, new String[]{String[].class.getName()});
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (Exception | LinkageError e) {
            System.err.println("viditq: could not keep C1 off the Vector API kernels (" + e + "); they may run slowly"
                    + " for a while after start-up. Remedy: java -XX:-TieredCompilation");
        }
    }
}
