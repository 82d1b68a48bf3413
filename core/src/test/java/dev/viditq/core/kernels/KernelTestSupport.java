package dev.viditq.core.kernels;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.fail;

/** Random inputs and float comparisons for the differential kernel tests. */
final class KernelTestSupport {
    private KernelTestSupport() {}

    /** count floats uniform in [lo, hi), off-heap. */
    static MemorySegment random(SplittableRandom r, long count, float lo, float hi) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, count) * Float.BYTES, 64);
        for (long i = 0; i < count; i++) s.setAtIndex(F32_LE, i, lo + (hi - lo) * (float) r.nextDouble());
        return s;
    }

    static MemorySegment random(SplittableRandom r, long count) {
        return random(r, count, -1f, 1f);
    }

    static MemorySegment zeros(long count) {
        return Arena.ofAuto().allocate(Math.max(1, count) * Float.BYTES, 64);
    }

    static MemorySegment copy(MemorySegment s) {
        MemorySegment c = Arena.ofAuto().allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }

    /**
     * A random [rows, cols] weight of {@code dtype} whose data starts at an odd byte offset inside its buffer, as a
     * tensor sliced out of a memory-mapped checkpoint can: the kernels must not assume alignment.
     */
    static Tensor unalignedWeight(SplittableRandom r, DType dtype, long... shape) {
        long bytes = dtype.byteSize(Tensor.numel(shape));
        MemorySegment buffer = Arena.ofAuto().allocate(bytes + 8, 64);
        Tensor t = new Tensor(dtype, shape, buffer.asSlice(dtype == DType.F32 ? 2 : 6, bytes));
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (r.nextDouble() * 2 - 1));
        return t;
    }

    static float[] floats(MemorySegment s, long count) {
        float[] a = new float[Math.toIntExact(count)];
        MemorySegment.copy(s, F32_LE, 0, a, 0, a.length);
        return a;
    }

    /**
     * Every element within {@code rtol·(|expected| + rms(expected))}: relative for large values, and for values
     * near zero (where a float sum's error is set by the size of its terms, not of its result) relative to the
     * typical magnitude. NaN must match NaN, infinities must match exactly.
     */
    static void assertClose(MemorySegment expected, MemorySegment actual, long count, double rtol, String what) {
        float[] e = floats(expected, count), a = floats(actual, count);
        double ss = 0;
        int finite = 0;
        for (float v : e) {
            if (Float.isFinite(v)) {
                ss += (double) v * v;
                finite++;
            }
        }
        double rms = finite == 0 ? 0 : Math.sqrt(ss / finite);
        for (int i = 0; i < e.length; i++) {
            if (Float.isNaN(e[i]) || Float.isInfinite(e[i])) {
                if (Float.compare(e[i], a[i]) != 0 && !(Float.isNaN(e[i]) && Float.isNaN(a[i]))) {
                    fail(what + ": element " + i + " expected " + e[i] + " but was " + a[i]);
                }
                continue;
            }
            double tol = rtol * (Math.abs(e[i]) + rms) + 1e-30;
            if (!(Math.abs(a[i] - e[i]) <= tol)) {
                fail(what + ": element " + i + " of " + e.length + " expected " + e[i] + " but was " + a[i]
                        + " (|diff| " + Math.abs(a[i] - e[i]) + " > tolerance " + tol + ")");
            }
        }
    }
}
