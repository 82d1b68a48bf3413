package dev.viditq.cli;

import dev.viditq.eval.mp.Sensitivity;
import dev.viditq.eval.mp.SensitivityEntry;

import java.util.List;
import java.util.function.Consumer;

/**
 * {@code sensitivity --spark}: every entry (group, range, candidate) is a task measured on a worker by a
 * {@link Sensitivity.Worker} prepared there once (model loaded, float run recorded) and kept for the next entry; the
 * driver stores each entry as it arrives (a rerun skips it) and writes the same report as the single-process run.
 */
final class DistributedSensitivity implements Sensitivity.Measurer {
    private final Cluster cluster;
    private final String[] args;

    DistributedSensitivity(Cluster cluster, String[] args) {
        this.cluster = cluster;
        this.args = args;
    }

    @Override
    public void measure(List<Sensitivity.EntryKey> pending, Consumer<SensitivityEntry> done) {
        List<Task> tasks = pending.stream().map(k -> new Task(args, k)).toList();
        cluster.run("sensitivity entries", tasks, (i, entry) -> done.accept(entry));
    }

    /** One entry, measured by the worker's prepared run of this command line. */
    record Task(String[] args, Sensitivity.EntryKey key) implements Cluster.Task<SensitivityEntry> {
        @Override
        public SensitivityEntry run() {
            SensitivityCommand c = Distributed.reparse(args, SensitivityCommand.class);
            return WorkerPool.with(Distributed.key("sensitivity", args), () -> Sensitivity.Worker.open(c.request()),
                    w -> w.measure(key));
        }
    }
}
