package dev.viditq.eval.run;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.nn.pipeline.GenerationRequest;
import dev.viditq.nn.sampling.StepListener;

import java.util.ArrayList;
import java.util.List;

/** Runs a prompt list through a pipeline in batches (see {@link EvalSettings} for the seeds) and times it. */
public final class BatchGenerator {
    /** Told after each batch. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (what, done, total, seconds) -> { };

        /**
         * @param what    the model being run ("model" or "reference")
         * @param done    prompts generated so far
         * @param seconds wall time of the batch just finished
         */
        void batchDone(String what, int done, int total, double seconds);
    }

    /**
     * @param samples           one per prompt, in prompt order
     * @param settings          what the pipeline actually ran (sampler, steps, cfg, size, frames)
     * @param seconds           wall time of all batches (text encoding, sampling, decoding)
     * @param firstBatchSeconds wall time of the first batch, which includes the JIT's warm-up
     */
    public record Run(List<Sample> samples, GenerationPipeline.Settings settings, int batch, double seconds,
                      double firstBatchSeconds) {
        /** Seconds of sampling per prompt, the batch amortised. */
        public double secondsPerSample() {
            return seconds / samples.size();
        }

        /** Seconds of one denoising step (both guidance halves) per prompt, the batch amortised. */
        public double secondsPerStep() {
            return secondsPerSample() / settings.steps();
        }

        /**
         * Seconds per prompt after the first batch, whose time includes the JIT compiling the kernels (on a busy
         * 2-core machine that first batch can take several times as long as the next); NaN with a single batch.
         */
        public double steadySecondsPerSample() {
            int rest = samples.size() - Math.min(batch, samples.size());
            return rest == 0 ? Double.NaN : (seconds - firstBatchSeconds) / rest;
        }
    }

    private BatchGenerator() {}

    /**
     * @param settings the sampler, steps and cfg must already be resolved (null ones take the family default)
     */
    public static Run generate(GenerationPipeline pipeline, List<EvalPrompt> prompts, EvalSettings settings,
                               String what, Progress progress) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("no prompts to generate");
        if (!pipeline.acceptsPrompts()) {
            throw new IllegalArgumentException("the model folder has no text encoder (text_encoder/ + tokenizer), so it cannot be "
                    + "evaluated on text prompts");
        }
        List<Sample> samples = new ArrayList<>(prompts.size());
        GenerationPipeline.Settings used = pipeline.resolve(request(prompts.subList(0, 1), settings, 0));
        double total = 0, first = 0;
        for (int start = 0; start < prompts.size(); start += settings.batch()) {
            List<EvalPrompt> batch = prompts.subList(start, Math.min(prompts.size(), start + settings.batch()));
            long t0 = System.nanoTime();
            GenerationPipeline.Generation g = pipeline.generate(request(batch, settings, start), StepListener.NONE);
            for (int b = 0; b < batch.size(); b++) samples.add(new Sample(batch.get(b), Sample.fromPixels(g.pixels(), b)));
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (start == 0) first = seconds;
            total += seconds;
            progress.batchDone(what, samples.size(), prompts.size(), seconds);
        }
        return new Run(samples, used, settings.batch(), total, first);
    }

    /** The pipeline settings a run of {@code prompts} uses (resolved from its first prompt, as {@link #generate} does). */
    public static GenerationPipeline.Settings resolve(GenerationPipeline pipeline, List<EvalPrompt> prompts, EvalSettings settings) {
        return pipeline.resolve(request(prompts.subList(0, 1), settings, 0));
    }

    /**
     * The pixels [B, 3, (F,) H, W] of the batch of {@code captions} starting at prompt {@code start}, generated as
     * {@link #generate} generates that batch (same seed, same request).
     */
    public static Tensor batchPixels(GenerationPipeline pipeline, List<String> captions, EvalSettings s, int start) {
        GenerationRequest r = GenerationRequest.builder().prompts(captions).sampler(s.sampler()).steps(s.steps())
                .cfgScale(s.cfgScale()).seed(s.seed() + start).size(s.height(), s.width()).frames(s.frames()).build();
        return pipeline.generate(r, StepListener.NONE).pixels();
    }

    /** The samples of a batch's pixels, one per prompt of {@code batch}. */
    public static List<Sample> samples(List<EvalPrompt> batch, Tensor pixels) {
        List<Sample> out = new ArrayList<>(batch.size());
        for (int b = 0; b < batch.size(); b++) out.add(new Sample(batch.get(b), Sample.fromPixels(pixels, b)));
        return out;
    }

    private static GenerationRequest request(List<EvalPrompt> batch, EvalSettings s, int start) {
        return GenerationRequest.builder().prompts(batch.stream().map(EvalPrompt::caption).toList())
                .sampler(s.sampler()).steps(s.steps()).cfgScale(s.cfgScale()).seed(s.seed() + start).size(s.height(), s.width())
                .frames(s.frames()).build();
    }
}
