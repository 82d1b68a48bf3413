package dev.viditq.bench.profile;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;

import java.util.concurrent.atomic.LongAdder;

/**
 * Wraps a {@link Linear}'s executor (float or quantized) and adds its wall time to a shared counter: the GEMM share
 * of a step, including what a quantized executor does around the integer product (quantizing activations,
 * rescaling). Installed only while benchmarking; the layer's own executor is put back by {@link StepProfiler#close()}.
 */
final class TimingExecutor implements Linear.Executor {
    private final Linear.Executor inner;
    private final LongAdder nanos;

    TimingExecutor(Linear.Executor inner, LongAdder nanos) {
        this.inner = inner;
        this.nanos = nanos;
    }

    Linear.Executor inner() {
        return inner;
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        long t0 = System.nanoTime();
        inner.forward(layer, x2d, out2d);
        nanos.add(System.nanoTime() - t0);
    }
}
