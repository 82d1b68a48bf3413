package dev.viditq.bench.profile;

import java.io.PrintStream;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * GEMM time and operations per shape (rows × in → out): which matrix products of a step run below the kernel's
 * stand-alone speed. Filled by {@link TimingExecutor}; printed by {@link StepProfiler#printShapes}.
 */
final class GemmShapes {
    private record Shape(int rows, int in, int out) {}

    private record Totals(LongAdder calls, LongAdder nanos, LongAdder ops) {
        Totals() {
            this(new LongAdder(), new LongAdder(), new LongAdder());
        }
    }

    private final Map<Shape, Totals> byShape = new ConcurrentHashMap<>();

    void add(int rows, int in, int out, long nanos, long ops) {
        Totals t = byShape.computeIfAbsent(new Shape(rows, in, out), s -> new Totals());
        t.calls.increment();
        t.nanos.add(nanos);
        t.ops.add(ops);
    }

    void clear() {
        byShape.clear();
    }

    /** One line per shape, most time first: calls, seconds, GOP/s. */
    void print(PrintStream log) {
        log.println("  GEMM by shape (rows x in -> out): calls, seconds, G(FL)OP/s");
        byShape.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<Shape, Totals> e) -> e.getValue().nanos.sum()).reversed())
                .forEach(e -> {
                    Shape s = e.getKey();
                    Totals t = e.getValue();
                    double sec = t.nanos.sum() / 1e9;
                    log.printf(Locale.ROOT, "    %5d x %5d -> %5d  %6d  %8.3f  %7.1f%n", s.rows(), s.in(), s.out(),
                            t.calls.sum(), sec, sec > 0 ? t.ops.sum() / sec / 1e9 : 0);
                });
    }
}
