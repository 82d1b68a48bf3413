package dev.viditq.bench.profile;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;

import java.util.concurrent.atomic.LongAdder;

/**
 * Wraps a {@link Linear}'s executor (float or quantized) and adds its wall time to a shared counter: the GEMM share
 * of a step, including what a quantized executor does around the integer product (quantizing activations,
 * rescaling) and an MLP activation the executor applies (fused into the integer GEMM's epilogue, or its own pass), and
 * counts the product's operations (2·rows·in·out). The kernels the executor calls itself count here only (see
 * {@link InsideLinear}). Installed only while benchmarking; the layer's own executor is put back by {@link StepProfiler#close()}.
 */
final class TimingExecutor implements Linear.Executor {
    private final Linear.Executor inner;
    private final LongAdder nanos;
    private final LongAdder flops;
    private final GemmShapes shapes;

    TimingExecutor(Linear.Executor inner, LongAdder nanos, LongAdder flops, GemmShapes shapes) {
        this.inner = inner;
        this.nanos = nanos;
        this.flops = flops;
        this.shapes = shapes;
    }

    Linear.Executor inner() {
        return inner;
    }

    @Override
    public boolean writesEveryOutput() {
        return inner.writesEveryOutput();
    }

    @Override
    public Object reuseKey() {
        return inner.reuseKey();
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d, java.util.function.IntPredicate realRows) {
        timed(layer, x2d, () -> inner.forward(layer, x2d, out2d, realRows));
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        timed(layer, x2d, () -> inner.forward(layer, x2d, out2d));
    }

    @Override
    public void forwardActivated(Linear layer, Tensor x2d, Tensor out2d, Activation activation) {
        timed(layer, x2d, () -> inner.forwardActivated(layer, x2d, out2d, activation));
    }

    /** The call's wall time, with the kernels it calls itself kept out of {@link TimingKernels}' counts. */
    private void timed(Linear layer, Tensor x2d, Runnable call) {
        long t0 = System.nanoTime();
        InsideLinear.enter();
        try {
            call.run();
        } finally {
            InsideLinear.exit();
        }
        record(layer, x2d.size(0), System.nanoTime() - t0);
    }

    private void record(Linear layer, int rows, long elapsed) {
        long ops = 2L * rows * layer.inFeatures() * layer.outFeatures();
        nanos.add(elapsed);
        flops.add(ops);
        shapes.add(rows, layer.inFeatures(), layer.outFeatures(), elapsed, ops);
    }
}
