package dev.viditq.cli;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.run.BatchGenerator;
import dev.viditq.eval.run.EvalPrompt;
import dev.viditq.eval.run.EvalSettings;
import dev.viditq.eval.run.Sample;
import dev.viditq.eval.run.ShapesEval;
import dev.viditq.nn.pipeline.GenerationPipeline;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code eval --spark}: every batch of prompts (the batches and seeds of the single-process run) is a task that
 * generates it on a worker and returns its pixels; the driver scores them as the single-process run does, so every
 * figure but the timings is the same. Seconds are the sum of the batches' times on the workers.
 */
final class DistributedEval implements ShapesEval.Generator {
    private final Cluster cluster;
    private final String[] args;

    DistributedEval(Cluster cluster, String[] args) {
        this.cluster = cluster;
        this.args = args;
    }

    @Override
    public BatchGenerator.Run generate(String what, Path folder, GenerationPipeline pipeline, List<EvalPrompt> prompts,
                                       EvalSettings settings, Precision precision, BatchGenerator.Progress progress) {
        GenerationPipeline.Settings used = BatchGenerator.resolve(pipeline, prompts, settings);
        String p = (precision != null ? precision : KernelBackend.precision()).name();
        List<int[]> ranges = Cluster.ranges(0, prompts.size(), settings.batch());
        List<Task> tasks = new ArrayList<>();
        for (int[] r : ranges) {
            List<String> captions = new ArrayList<>(prompts.subList(r[0], r[1]).stream().map(EvalPrompt::caption).toList());
            tasks.add(new Task(args, folder.toAbsolutePath().toString(), p, new ArrayList<>(captions), settings.sampler(),
                    settings.steps(), settings.cfgScale(), settings.seed(), settings.batch(), r[0], settings.height(), settings.width(),
                    settings.frames()));
        }
        Pixels[] out = new Pixels[tasks.size()];
        int[] done = {0};
        cluster.run("eval " + what, tasks, (i, px) -> {
            out[i] = px;
            done[0] += ranges.get(i)[1] - ranges.get(i)[0];
            progress.batchDone(what, done[0], prompts.size(), px.seconds());
        });
        List<Sample> samples = new ArrayList<>(prompts.size());
        double seconds = 0;
        for (int i = 0; i < out.length; i++) {
            int[] r = ranges.get(i);
            samples.addAll(BatchGenerator.samples(prompts.subList(r[0], r[1]), Tensor.of(out[i].values(), out[i].shape())));
            seconds += out[i].seconds();
        }
        return new BatchGenerator.Run(samples, used, settings.batch(), seconds, out[0].seconds());
    }

    /** A batch's pixels [B, 3, (F,) H, W] and the seconds its generation took. */
    record Pixels(float[] values, long[] shape, double seconds) implements Serializable {}

    /** One batch, generated on a worker by the folder's pipeline (kept there for the next batch). */
    record Task(String[] args, String folder, String precision, ArrayList<String> captions, String sampler, Integer steps,
                Double cfgScale, long seed, int batch, int start, Integer height, Integer width, Integer frames)
            implements Cluster.Task<Pixels> {
        @Override
        public Pixels run() {
            Distributed.reparse(args, EvalCommand.class);   // --simulate, --trust-unsealed as on the driver
            // the stage's precision for the whole task (the reference may run in another one than the model)
            KernelBackend.usePrecision(Precision.valueOf(precision));
            EvalSettings s = new EvalSettings(sampler, steps, cfgScale, seed, batch, height, width, frames);
            return WorkerPool.with(Distributed.key("pipeline", new String[]{folder}), () -> GenerationPipeline.load(Path.of(folder)), p -> {
                long t0 = System.nanoTime();
                Tensor px = BatchGenerator.batchPixels(p, captions, s, start);
                return new Pixels(px.toFloatArray(), px.shape(), (System.nanoTime() - t0) / 1e9);
            });
        }
    }
}
