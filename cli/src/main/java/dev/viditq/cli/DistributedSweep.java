package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.StrictJson;
import dev.viditq.eval.sweep.Sweep;

import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * {@code sweep --spark}: every setting is a task that quantizes it (into RUNDIR/setting/model, a folder every worker
 * sees) and evaluates it in a fresh JVM on its worker, writing result.json there as the single-process sweep does; a
 * rerun reuses finished settings the same way.
 */
final class DistributedSweep implements Sweep.SettingRunner {
    private final Cluster cluster;
    private final String[] args;

    DistributedSweep(Cluster cluster, String[] args) {
        this.cluster = cluster;
        this.args = args;
    }

    @Override
    public void measure(List<Integer> settings, BiConsumer<Integer, ObjectNode> done) {
        List<Task> tasks = settings.stream().map(i -> new Task(args, i)).toList();
        cluster.run("sweep settings", tasks, (i, json) -> {
            try {
                done.accept(settings.get(i), (ObjectNode) StrictJson.MAPPER.readTree(json));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** One setting of the command line's sweep, measured on a worker; its result as JSON text. */
    record Task(String[] args, int setting) implements Cluster.Task<String> {
        @Override
        public String run() {
            SweepCommand c = Distributed.reparse(args, SweepCommand.class);
            return Sweep.measureSetting(c.request(), setting).toString();
        }
    }
}
