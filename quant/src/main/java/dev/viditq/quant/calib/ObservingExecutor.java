package dev.viditq.quant.calib;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.sampling.StepContext;

import java.util.function.IntPredicate;

/**
 * Calibration's observer: runs the Linear as before (the wrapped executor) and records its input into
 * {@link LayerStats}, keyed by the {@link StepContext} the pipeline sets around every model call. A call outside
 * a sampling loop is an error: calibration statistics without a step would be misfiled. Rows the model marks as
 * padding (caption tokens beyond a caption's mask, {@link Linear#forward(Tensor, IntPredicate)}) are not recorded.
 */
public final class ObservingExecutor implements Linear.Executor {
    private final Linear.Executor inner;
    private final LayerStats stats;
    private final LayerHessian hessian;   // null: not collected

    public ObservingExecutor(Linear.Executor inner, LayerStats stats) {
        this(inner, stats, null);
    }

    /** Also adds the real rows of every input to {@code hessian} (may be null). */
    public ObservingExecutor(Linear.Executor inner, LayerStats stats, LayerHessian hessian) {
        this.inner = inner;
        this.stats = stats;
        this.hessian = hessian;
    }

    public Linear.Executor inner() {
        return inner;
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        forward(layer, x2d, out2d, null);
    }

    /** As the observed executor: observing does not change what it writes (a GEMM's output need not be zeroed first). */
    @Override
    public boolean writesEveryOutput() {
        return inner.writesEveryOutput();
    }

    /** Records only the real rows: caption padding (beyond each caption's mask) never reaches the output. */
    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d, IntPredicate realRows) {
        inner.forward(layer, x2d, out2d);
        StepContext ctx = StepContext.current();
        if (!ctx.active()) {
            throw new IllegalStateException(layer.name() + " was called outside a sampling loop during calibration");
        }
        stats.record(x2d.data(), x2d.size(0), ctx.stepIndex(), ctx.cfgHalf(), realRows);
        if (hessian != null) hessian.add(x2d.data(), x2d.size(0), realRows);
    }
}
