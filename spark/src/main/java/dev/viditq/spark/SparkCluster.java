package dev.viditq.spark;

import dev.viditq.cli.Cluster;
import dev.viditq.cli.WorkerPool;
import dev.viditq.core.parallel.Parallel;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.collection.Iterator;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link Cluster} on Apache Spark. Every task is one partition of one element; results come back to the driver through
 * {@code SparkContext.runJob}'s result handler as each task finishes. One SparkContext serves every command of the
 * process (tests run several); it stops with the JVM.
 *
 * <p>Threads: a task's kernels use a pool of their own of {@link #taskThreads} threads, so executor cores × kernel
 * threads stay within the node: {@code spark.viditq.task-threads} when set; else in local[N] the machine's cores / N;
 * else {@code spark.task.cpus} (give executors {@code spark.executor.cores} = k × {@code spark.task.cpus}).
 *
 * <p>Faults: a failed task runs again (spark.task.maxFailures; {@code local[N]} is started as {@code local[N,4]}, local
 * mode's own way to retry). {@code -Dviditq.spark.fail-task=STAGE:INDEX} makes the first attempt of task INDEX of the
 * first stage whose name starts with STAGE throw (tests: an injected failure must change nothing).
 */
public final class SparkCluster implements Cluster {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)\\]");
    public static final String FAIL_PROPERTY = "viditq.spark.fail-task";
    private static SparkContext shared;
    private static String sharedMaster;

    private final SparkContext sc;
    private final int slots;
    private final int taskThreads;

    private SparkCluster(SparkContext sc, int slots, int taskThreads) {
        this.sc = sc;
        this.slots = slots;
        this.taskThreads = taskThreads;
    }

    /** Found by {@link Cluster#open} through the service file. */
    public static final class Provider implements Cluster.Provider {
        @Override
        public Cluster open(String master) {
            return SparkCluster.open(master);
        }
    }

    static synchronized SparkCluster open(String master) {
        String m = withRetries(master);
        if (shared != null && !m.equals(sharedMaster)) {
            shared.stop();
            shared = null;
        }
        if (shared == null) {
            SparkConf conf = new SparkConf().setAppName("viditq").setMaster(m)
                    .setIfMissing("spark.ui.enabled", "false")
                    .setIfMissing("spark.ui.showConsoleProgress", "false");
            if (m.startsWith("local")) conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1").setIfMissing("spark.driver.host", "127.0.0.1");
            shared = SparkContext.getOrCreate(conf);
            sharedMaster = m;
        }
        int slots = Math.max(1, shared.defaultParallelism());
        int threads = taskThreads(shared.getConf(), master, slots);
        System.err.printf(Locale.ROOT, "spark: %s, %d task slots, %d kernel threads per task%n", m, slots, threads);
        return new SparkCluster(shared, slots, threads);
    }

    /** local[N] without a retry count gets local[N,4]: plain local mode runs every task once. */
    static String withRetries(String master) {
        Matcher mm = LOCAL.matcher(master);
        if (mm.matches()) return "local[" + mm.group(1) + ",4]";
        if (master.equals("local")) return "local[1,4]";
        return master;
    }

    static int taskThreads(SparkConf conf, String master, int slots) {
        if (conf.contains("spark.viditq.task-threads")) return Math.max(1, conf.getInt("spark.viditq.task-threads", 1));
        if (master.startsWith("local")) return Math.max(1, Runtime.getRuntime().availableProcessors() / slots);
        return Math.max(1, conf.getInt("spark.task.cpus", 1));
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public <T extends Serializable> void run(String stage, List<? extends Task<T>> tasks, BiConsumer<Integer, T> sink) {
        if (tasks.isEmpty()) return;
        List<Task<?>> elements = new ArrayList<>(tasks);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        RDD<Task<?>> rdd = jsc.parallelize(elements, elements.size()).rdd();
        List<Object> partitions = new ArrayList<>();
        for (int i = 0; i < elements.size(); i++) partitions.add(i);
        int failIndex = failIndex(stage);
        double[] seconds = new double[elements.size()];
        long t0 = System.nanoTime();
        sc.setJobDescription(stage);
        ClassTag<Outcome> tag = ClassTag$.MODULE$.apply(Outcome.class);
        sc.runJob(rdd, new RunTask(taskThreads, failIndex),
                scala.jdk.javaapi.CollectionConverters.asScala(partitions).toSeq(),
                new Handler<>(sink, seconds), tag);
        reportSkew(stage, seconds, (System.nanoTime() - t0) / 1e9);
    }

    private static int failIndex(String stage) {
        String spec = System.getProperty(FAIL_PROPERTY);
        if (spec == null) return -1;
        int colon = spec.lastIndexOf(':');
        if (colon < 0 || !stage.startsWith(spec.substring(0, colon))) return -1;
        System.clearProperty(FAIL_PROPERTY);   // the first matching stage only
        return Integer.parseInt(spec.substring(colon + 1));
    }

    /** One line per stage on stderr: tasks, wall time and how uneven the tasks were (the slowest against the median). */
    private void reportSkew(String stage, double[] seconds, double wall) {
        double[] s = seconds.clone();
        Arrays.sort(s);
        double median = s[s.length / 2], max = s[s.length - 1], sum = Arrays.stream(s).sum();
        System.err.printf(Locale.ROOT, "spark: %s: %d tasks on %d slots in %.2f s; task s: sum %.2f, median %.3f, max %.3f "
                + "(max/median %.2f)%n", stage, s.length, slots, wall, sum, median, max, median > 0 ? max / median : Double.NaN);
    }

    /** A task's result and the seconds it ran. */
    record Outcome(Object result, double seconds) implements Serializable {}

    /** Runs the partition's one task on an executor, its kernels on a pool of their own. */
    static final class RunTask extends AbstractFunction2<TaskContext, Iterator<Task<?>>, Outcome> implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final int threads;
        private final int failIndex;

        RunTask(int threads, int failIndex) {
            this.threads = threads;
            this.failIndex = failIndex;
        }

        @Override
        public Outcome apply(TaskContext ctx, Iterator<Task<?>> it) {
            Task<?> task = it.next();
            if (ctx.partitionId() == failIndex && ctx.attemptNumber() == 0) {
                throw new IllegalStateException("injected failure of the first attempt of task " + failIndex + " (-D" + FAIL_PROPERTY + ")");
            }
            Parallel.useOwnPool(threads);
            System.setProperty("viditq.sweep.worker-threads", Integer.toString(threads));
            long t0 = System.nanoTime();
            try {
                Object r = task.run();
                return new Outcome(r, (System.nanoTime() - t0) / 1e9);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }

    /** Hands each finished task's result to the command's sink (on the driver). */
    static final class Handler<T> extends AbstractFunction2<Object, Outcome, BoxedUnit> implements Serializable {
        private final transient BiConsumer<Integer, T> sink;
        private final transient double[] seconds;

        Handler(BiConsumer<Integer, T> sink, double[] seconds) {
            this.sink = sink;
            this.seconds = seconds;
        }

        @Override
        @SuppressWarnings("unchecked")
        public BoxedUnit apply(Object index, Outcome o) {
            int i = (Integer) index;
            seconds[i] = o.seconds();
            sink.accept(i, (T) o.result());
            return BoxedUnit.UNIT;
        }
    }

    @Override
    public void close() {
        if (sc.master().startsWith("local")) WorkerPool.closeAll();   // the executors are this process
    }
}
