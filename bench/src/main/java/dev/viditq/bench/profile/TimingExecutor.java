package dev.viditq.bench.profile;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;

import java.util.concurrent.atomic.LongAdder;

/**
 * Wraps a {@link Linear}'s executor (float or quantized) and adds its wall time to a shared counter: the GEMM share
 * of a step, including what a quantized executor does around the integer product (quantizing activations,
 * rescaling), and counts the product's operations (2·rows·in·out). Installed only while benchmarking; the layer's own executor is put back by {@link StepProfiler#close()}.
 */
final class TimingExecutor implements Linear.Executor {
    private final Linear.Executor inner;
    private final LongAdder nanos;
    private final LongAdder flops;

    TimingExecutor(Linear.Executor inner, LongAdder nanos, LongAdder flops) {
        this.inner = inner;
        this.nanos = nanos;
        this.flops = flops;
    }

    Linear.Executor inner() {
        return inner;
    }

    @Override
    public boolean writesEveryOutput() {
        return inner.writesEveryOutput();
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d, java.util.function.IntPredicate realRows) {
        long t0 = System.nanoTime();
        inner.forward(layer, x2d, out2d, realRows);
        nanos.add(System.nanoTime() - t0);
        flops.add(2L * x2d.size(0) * layer.inFeatures() * layer.outFeatures());
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        long t0 = System.nanoTime();
        inner.forward(layer, x2d, out2d);
        nanos.add(System.nanoTime() - t0);
        flops.add(2L * x2d.size(0) * layer.inFeatures() * layer.outFeatures());
    }
}
