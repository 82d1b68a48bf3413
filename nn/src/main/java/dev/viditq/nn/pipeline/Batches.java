package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Copies along the batch dimension; all return new tensors. */
final class Batches {
    private Batches() {}

    /** [a; b] along dimension 0; null when both are null. */
    static Tensor concat(Tensor a, Tensor b) {
        if (a == null && b == null) return null;
        if (a == null || b == null) throw new IllegalArgumentException("cannot batch a tensor with a missing one");
        if (a.dtype() != b.dtype()) throw new IllegalArgumentException("cannot batch " + a + " with " + b);
        long[] sa = a.shape(), sb = b.shape();
        if (sa.length != sb.length || !Arrays.equals(Arrays.copyOfRange(sa, 1, sa.length), Arrays.copyOfRange(sb, 1, sb.length))) {
            throw new IllegalArgumentException("cannot batch " + a + " with " + b + ": trailing shapes differ");
        }
        sa[0] += sb[0];
        Tensor out = Tensor.zeros(a.dtype(), sa);
        MemorySegment.copy(a.data(), 0, out.data(), 0, a.byteSize());
        MemorySegment.copy(b.data(), 0, out.data(), a.byteSize(), b.byteSize());
        return out;
    }

    /** {@code t} [...] stacked {@code times} times: [times, ...]. */
    static Tensor repeat(Tensor t, int times) {
        long[] shape = new long[t.rank() + 1];
        shape[0] = times;
        System.arraycopy(t.shape(), 0, shape, 1, t.rank());
        Tensor out = Tensor.zeros(t.dtype(), shape);
        for (int i = 0; i < times; i++) MemorySegment.copy(t.data(), 0, out.data(), i * t.byteSize(), t.byteSize());
        return out;
    }
}
