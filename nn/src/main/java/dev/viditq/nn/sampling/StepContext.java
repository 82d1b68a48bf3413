package dev.viditq.nn.sampling;

import java.util.function.Supplier;

/**
 * Where the denoiser's current forward pass sits in a sampling run, for anything that observes the model from the
 * inside (quantization observers recording per-timestep statistics, timestep-dependent bit maps, per-CFG-half
 * parameters). The guided model binds it around every model call ({@link #callWith}); layers read it with
 * {@link #current()}.
 *
 * <pre>{@code
 * StepContext ctx = StepContext.current();   // NONE outside a sampling loop
 * if (ctx.active() && ctx.stepIndex() < ctx.totalSteps() / 4) { ... first quarter of the steps ... }
 * }</pre>
 *
 * <p>The binding is a {@link ScopedValue}: it holds on the thread that called the model and for the duration of
 * that call only, so two sampling loops on two threads do not see each other's step. Helper threads of
 * {@link dev.viditq.core.parallel.Parallel} do not inherit it; nothing reads it there — every reader (the Linear
 * executors, calibration observers, a recording denoiser) runs on the calling thread and hands kernels plain
 * values (a precision, a range bucket, a CFG half).
 *
 * @param stepIndex  0-based index of the step (= model call) in the run
 * @param totalSteps steps in the run
 * @param timestep   the time the model receives (0..1000 scale; see {@link Step#modelTime()})
 * @param cfgHalf    which classifier-free-guidance half the rows of this forward pass belong to
 */
public record StepContext(int stepIndex, int totalSteps, double timestep, CfgHalf cfgHalf) {
    /** The batch layout of a forward pass with respect to classifier-free guidance. */
    public enum CfgHalf {
        /** No guidance (scale 1): every row is conditional. */
        NONE,
        /** Rows [cond | uncond] in one batch: the first half of the batch is conditional (original repos). */
        BATCH_COND_FIRST,
        /** Rows [uncond | cond] in one batch: the first half is unconditional (diffusers pipelines). */
        BATCH_UNCOND_FIRST,
        /** A separate forward pass over the conditional batch only. */
        COND,
        /** A separate forward pass over the unconditional batch only. */
        UNCOND;

        /**
         * True when sample {@code row} of a forward batch of {@code batch} samples is an unconditional one. Rows are
         * samples along the batch dimension: for a Linear input of batch·N token rows, sample = tokenRow / N.
         */
        public boolean isUncondRow(int row, int batch) {
            return switch (this) {
                case NONE, COND -> false;
                case UNCOND -> true;
                case BATCH_COND_FIRST -> row >= batch / 2;
                case BATCH_UNCOND_FIRST -> row < batch / 2;
            };
        }
    }

    /** Outside any sampling loop: step -1 of 0. */
    public static final StepContext NONE = new StepContext(-1, 0, Double.NaN, CfgHalf.NONE);

    private static final ScopedValue<StepContext> CURRENT = ScopedValue.newInstance();

    /** The context of the forward pass in progress on this thread, or {@link #NONE}. */
    public static StepContext current() {
        return CURRENT.orElse(NONE);
    }

    /** True inside a sampling loop. */
    public boolean active() {
        return stepIndex >= 0;
    }

    /** Runs {@code call} (a model forward pass) with {@code ctx} as the current context, and returns its result. */
    public static <T> T callWith(StepContext ctx, Supplier<T> call) {
        return ScopedValue.where(CURRENT, ctx).call(call::get);
    }

    /** Runs {@code body} with {@code ctx} as the current context. */
    public static void runWith(StepContext ctx, Runnable body) {
        ScopedValue.where(CURRENT, ctx).run(body);
    }
}
