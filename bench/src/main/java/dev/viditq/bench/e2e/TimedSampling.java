package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;
import dev.viditq.bench.profile.MachineState;
import dev.viditq.bench.profile.StepProfiler;
import dev.viditq.core.parallel.PoolStats;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.Sampler;
import dev.viditq.nn.sampling.Samplers;
import dev.viditq.nn.sampling.SeededGaussian;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The measured sampling loop every engine of the benchmark shares ({@link E2eBenchmark} for ours, the ONNX Runtime
 * peer for its graph): the architecture's official sampler with classifier-free guidance on one latent (every step
 * one forward pass over a batch of 2), random caption embeddings against the learned null caption (or a class
 * against the null class), one warm-up step, then the timed ones.
 */
public final class TimedSampling {
    private static final long SEED = 1234;

    private TimedSampling() {}

    /**
     * The per-step wall times (and, when profiled, splits) of one sampling run, and the CPU time the hypervisor took
     * during the timed steps (null where the OS does not say).
     */
    public record Timed(List<Double> totals, StepProfiler.Split meanSplit, MachineState.Steal steal) {
        /** seconds per step of each part, or null without a profiler. */
        Map<String, Double> splitMap() {
            if (meanSplit == null) return null;
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("gemm", meanSplit.gemm());
            m.put("attention", meanSplit.attention());
            m.put("rest", meanSplit.rest());
            m.put("other_kernels", meanSplit.otherKernels());
            meanSplit.otherByKind().forEach((kind, seconds) -> m.put("other_kernels." + kind, seconds));
            m.put("untimed", meanSplit.untimed());
            m.put("quantize", meanSplit.quantize());
            m.put("allocation", meanSplit.allocation());
            m.put("gc", meanSplit.gc());
            return m;
        }

        /** One line on the CPU time the hypervisor took during the measured steps, where the OS counts it. */
        public void printSteal(PrintStream log) {
            if (steal != null) log.printf("CPU time stolen by the hypervisor in the measured steps: %s%n", steal.describe());
        }

        /** The thread pool's figures per step ({@link E2eResult#pool}), or null without a profiler. */
        Map<String, Double> poolMap() {
            if (meanSplit == null) return null;
            PoolStats p = meanSplit.pool();
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("calls", (double) p.calls());
            m.put("seconds", p.wallNanos() / 1e9);
            m.put("busy_fraction", p.busyFraction());
            m.put("helper_start_us", p.meanHelperStartMicros());
            m.put("late_joins", (double) p.lateJoins());
            m.put("caller_wait_us", p.meanCallerWaitMicros());
            m.put("parked_wakes", (double) p.parkedWakes());
            return m;
        }
    }

    /**
     * Samples with {@code model} for 1 + steps steps and times each one. {@code clock} gives the profiler's
     * snapshots (wall time plus counters); without a profiler pass a clock with zero counters.
     */
    public static Timed sample(Denoiser model, E2eRequest req, Supplier<StepProfiler.Snapshot> clock, PrintStream log) {
        return sample(model, req, clock, () -> {}, log);
    }

    /** As above, calling {@code afterWarmUp} once the warm-up step is done. */
    public static Timed sample(Denoiser model, E2eRequest req, Supplier<StepProfiler.Snapshot> clock, Runnable afterWarmUp,
                               PrintStream log) {
        Architecture arch = req.arch();
        Sampler sampler = Samplers.create(arch.sampler(), Samplers.Options.DEFAULT);
        Conditioning[] cu = conditioningFor(arch, model);
        GuidedModel guided = new GuidedModel(model, cu[0], cu[1], arch.cfgScale(), model.info().guidance(sampler.name()),
                GuidedModel.Batching.BATCHED);
        long[] shape = prepend(1, arch.latentShape());
        SeededGaussian rng = new SeededGaussian(SEED);
        Tensor noise = rng.next(shape);
        List<StepProfiler.Snapshot> marks = new ArrayList<>();
        List<MachineState.CpuTimes> cpuAfterWarmUp = new ArrayList<>(1);
        marks.add(clock.get());
        sampler.sample(guided, noise, req.steps() + 1, rng, (step, latent) -> {
            marks.add(clock.get());
            StepProfiler.Split s = marks.getLast().since(marks.get(marks.size() - 2));
            log.printf("  step %d/%d%s: %.3f s%n", step.index() + 1, step.total(), step.index() == 0 ? " (warm-up)" : "", s.total());
            if (step.index() == 0) {
                MachineState.cpuTimes().ifPresent(cpuAfterWarmUp::add);
                afterWarmUp.run();
            }
        });
        MachineState.Steal steal = cpuAfterWarmUp.isEmpty() ? null : MachineState.cpuTimes()
                .flatMap(end -> end.stealSince(cpuAfterWarmUp.getFirst())).orElse(null);
        List<Double> totals = new ArrayList<>();
        List<StepProfiler.Split> splits = new ArrayList<>();
        for (int i = 2; i < marks.size(); i++) { // interval 1 (marks 0→1) is the warm-up step
            StepProfiler.Split s = marks.get(i).since(marks.get(i - 1));
            totals.add(s.total());
            splits.add(s);
        }
        boolean profiled = marks.getLast().gemmNanos() > 0;
        return new Timed(totals, profiled ? StepProfiler.Split.mean(splits) : null, steal);
    }

    /**
     * [conditional, unconditional]: random caption embeddings and the learned null caption (a family without one, Wan,
     * guides with the negative prompt's embedding: other random embeddings stand in for it), or a class and the
     * null class.
     */
    public static Conditioning[] conditioningFor(Architecture arch, Denoiser model) {
        if (arch.family().classConditional()) {
            Tensor label = Tensor.zeros(DType.I64, 1);
            label.setFloat(0, 207);
            Tensor nullLabel = Tensor.zeros(DType.I64, 1);
            nullLabel.setFloat(0, arch.numClasses());
            return new Conditioning[]{Conditioning.classLabels(label), Conditioning.classLabels(nullLabel)};
        }
        Tensor caption = new SeededGaussian(SEED + 1).next(1, arch.captionTokens(), arch.captionChannels());
        Tensor nullCaption = model.nullCaption().map(t -> t.toF32().reshape(1, arch.captionTokens(), arch.captionChannels()))
                .orElseGet(() -> new SeededGaussian(SEED + 2).next(1, arch.captionTokens(), arch.captionChannels()));
        return new Conditioning[]{Conditioning.caption(caption, null), Conditioning.caption(nullCaption, null)};
    }

    /** The two halves of a guidance batch as one conditioning of batch 2 (what one CFG forward pass receives). */
    public static Conditioning cfgBatch(Conditioning cond, Conditioning uncond) {
        if (cond.classLabels() != null) {
            Tensor labels = Tensor.zeros(DType.I64, 2);
            labels.setFloat(0, cond.classLabels().getFloat(0));
            labels.setFloat(1, uncond.classLabels().getFloat(0));
            return Conditioning.classLabels(labels);
        }
        Tensor a = cond.caption(), b = uncond.caption();
        Tensor both = Tensor.zeros(2, a.dim(1), a.dim(2));
        both.data().asSlice(0, a.byteSize()).copyFrom(a.toF32().data());
        both.data().asSlice(a.byteSize(), b.byteSize()).copyFrom(b.toF32().data());
        return Conditioning.caption(both, null);
    }

    public static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
