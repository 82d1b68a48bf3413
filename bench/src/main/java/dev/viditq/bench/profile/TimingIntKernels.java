package dev.viditq.bench.profile;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.kernels.quant.QuantizedActivations;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.LongAdder;

/**
 * An {@link IntKernels} decorator that adds up the wall time of activation quantization (balancing and rotation
 * included): the part of a quantized layer's GEMM share that is not the integer product. Installed only while
 * benchmarking ({@link StepProfiler}).
 */
final class TimingIntKernels implements IntKernels {
    private final IntKernels inner;
    final LongAdder quantizeNanos = new LongAdder();

    TimingIntKernels(IntKernels inner) {
        this.inner = inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void quantize(MemorySegment x, int rows, int k, ActivationTransform transform, QuantizedActivations out) {
        long t0 = System.nanoTime();
        inner.quantize(x, rows, k, transform, out);
        quantizeNanos.add(System.nanoTime() - t0);
    }

    @Override
    public void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out) {
        inner.gemmW8A8(x, w, bias, out);
    }

    @Override
    public void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out) {
        inner.gemmW4A8(x, w, bias, out);
    }

    /** The inner kernels' own (an activation they fuse stays fused). */
    @Override
    public void gemm(QuantizedActivations x, PackedWeight w, MemorySegment bias, Activation activation, MemorySegment out) {
        inner.gemm(x, w, bias, activation, out);
    }
}
