package dev.viditq.bench.kernels;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Inputs for benchmarks: uniform random values in [-1, 1), off-heap, as the kernels see them in a model. */
public final class BenchData {
    private BenchData() {}

    /** An F32 segment of {@code count} random floats. */
    public static MemorySegment floats(long count, long seed) {
        return tensor(DType.F32, seed, count).data();
    }

    /** A random tensor of {@code dtype} (values rounded to it) with the given shape. */
    public static Tensor tensor(DType dtype, long seed, long... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        SplittableRandom r = new SplittableRandom(seed);
        long n = t.numel();
        for (long i = 0; i < n; i++) t.setFloat(i, (float) (r.nextDouble() * 2 - 1));
        return t;
    }
}
