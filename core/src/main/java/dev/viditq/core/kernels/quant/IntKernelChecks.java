package dev.viditq.core.kernels.quant;

import java.lang.foreign.MemorySegment;

/** Argument checks every implementation runs first, so a misuse fails the same way on every backend. */
final class IntKernelChecks {
    private IntKernelChecks() {}

    static void quantize(MemorySegment x, int rows, int k, ActivationTransform t, QuantizedActivations out) {
        if (rows < 0 || rows > out.capacity()) {
            throw new IllegalArgumentException(rows + " rows do not fit the quantized buffer of " + out.capacity() + " rows");
        }
        if (k != out.k()) throw new IllegalArgumentException("input has k=" + k + ", quantized buffer k=" + out.k());
        if (t != null && t.k() != k) throw new IllegalArgumentException(t + " does not match input k=" + k);
        need(x, (long) rows * k * Float.BYTES, "input x [" + rows + ", " + k + "]");
    }

    static void gemm(QuantizedActivations x, PackedWeight w, MemorySegment bias, MemorySegment out) {
        if (x.k() != w.k()) {
            throw new IllegalArgumentException("activations have k=" + x.k() + ", weights " + w + " take k=" + w.k());
        }
        if (bias != null) need(bias, (long) w.n() * Float.BYTES, "bias [" + w.n() + "]");
        need(out, (long) x.rows() * w.n() * Float.BYTES, "output [" + x.rows() + ", " + w.n() + "]");
    }

    private static void need(MemorySegment s, long bytes, String what) {
        if (s.byteSize() < bytes) {
            throw new IllegalArgumentException(what + " needs " + bytes + " bytes, the segment has " + s.byteSize());
        }
    }
}
