package dev.viditq.cli;

import java.io.Serializable;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.BiConsumer;

/**
 * Workers that run a command's independent pieces (prompts, batches, sensitivity entries, sweep settings) elsewhere:
 * Apache Spark, from the viditq-spark module (found on the class path through {@link Provider}). A task is a small
 * serializable description of one piece; it loads what it needs on the worker ({@link WorkerPool}) and returns a
 * serializable result the command folds exactly as its single-process loop does, so outputs do not depend on where or
 * in which order the pieces ran. A failed task is run again (Spark's retries); a task must therefore have no effect
 * besides its result, or an idempotent one (a file written whole under a fixed name).
 */
public interface Cluster extends AutoCloseable {
    /** One piece of work; runs on a worker. */
    interface Task<T extends Serializable> extends Serializable {
        T run() throws Exception;
    }

    /** Opens clusters; registered as a service by the viditq-spark module. */
    interface Provider {
        Cluster open(String master);
    }

    /**
     * Runs every task, each in one piece, and hands each result to {@code sink} (on this thread, one at a time, in the order
     * they finish) with the task's index; returns when all are done. A task that still fails after the retries fails
     * the call, naming {@code stage}.
     */
    <T extends Serializable> void run(String stage, List<? extends Task<T>> tasks, BiConsumer<Integer, T> sink);

    /** Tasks that run at the same time. */
    int slots();

    /** Frees what this command loaded on the workers of this process; the session itself may stay for the next command. */
    @Override
    void close();

    /** The cluster {@code --spark MASTER} names: local[N], spark://host:port, yarn, k8s://... */
    static Cluster open(String master) {
        if (master == null || master.isBlank()) throw new IllegalArgumentException("--spark needs a master URL, e.g. local[2] or spark://host:7077");
        for (Provider p : ServiceLoader.load(Provider.class)) return p.open(master.strip());
        throw new IllegalArgumentException("--spark " + master + ": the Spark module is not on the class path; run through ./viditq "
                + "(it adds spark/target/lib when --spark is given, after `mvn -pl spark -am install -DskipTests`) or spark-submit "
                + "spark/target/viditq-spark.jar (README, \"Beyond one machine\")");
    }

    /** Splits {@code items} into tasks of at most {@code size} consecutive items: [start, end) pairs. */
    static List<int[]> ranges(int from, int to, int size) {
        List<int[]> out = new java.util.ArrayList<>();
        for (int s = from; s < to; s += size) out.add(new int[]{s, Math.min(to, s + size)});
        return out;
    }
}
