package dev.viditq.nn.pipeline;

/**
 * Where the denoiser's current forward pass sits in a sampling run, for anything that observes the model from the
 * inside (quantization observers recording per-timestep statistics, timestep-dependent bit maps, per-CFG-half
 * parameters). The pipeline sets it around every model call; layers read it with {@link #current()}.
 *
 * <pre>{@code
 * StepContext ctx = StepContext.current();   // NONE outside a sampling loop
 * if (ctx.active() && ctx.stepIndex() < ctx.totalSteps() / 4) { ... first quarter of the steps ... }
 * }</pre>
 *
 * <p>The context is process-wide (a volatile field, not a thread-local), so kernels running on worker threads see
 * the same value as the thread that called the model. One sampling loop runs at a time per process; a nested or
 * concurrent {@link #enter} would be visible to both.
 *
 * @param stepIndex  0-based index of the step (= model call) in the run
 * @param totalSteps steps in the run
 * @param timestep   the time the model receives (0..1000 scale; see {@link dev.viditq.nn.sampling.Step#modelTime()})
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

    private static volatile StepContext current = NONE;

    /** The context of the forward pass in progress, or {@link #NONE}. */
    public static StepContext current() {
        return current;
    }

    /** True inside a sampling loop. */
    public boolean active() {
        return stepIndex >= 0;
    }

    /** Sets {@code ctx} until the returned scope is closed, which restores the previous context. */
    public static Scope enter(StepContext ctx) {
        StepContext previous = current;
        current = ctx;
        return () -> current = previous;
    }

    /** Restores the previous context; never throws. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
