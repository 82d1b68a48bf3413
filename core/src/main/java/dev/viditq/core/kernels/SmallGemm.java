package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.viditq.core.kernels.MicroKernel.L;
import static dev.viditq.core.kernels.MicroKernel.S;
import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * GEMM for fewer than {@link MicroKernel#MR} rows of x (timestep and class embeddings, a token at a time): the weight is streamed
 * once, row by row, each row widened into L1 and dotted with every row of x. Packing panels would cost more
 * than the arithmetic here, and the time is memory bandwidth anyway.
 */
final class SmallGemm {
    /** Weight rows per task: enough work to amortise a task, enough tasks to balance the threads. */
    private static final int ROWS_PER_TASK = 64;

    private SmallGemm() {}

    static void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        int n = w.size(0);
        float[] xa = new float[m * k];
        MemorySegment.copy(x, F32_LE, 0, xa, 0, m * k);
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        Parallel.forEach(tasks, t -> {
            float[] row = Scratch.floats(Scratch.Slot.ROW, k);
            for (int j = t * ROWS_PER_TASK, end = Math.min(n, j + ROWS_PER_TASK); j < end; j++) {
                WeightRows.widen(w, (long) j * k, k, row, 0);
                float b = bias == null ? 0f : bias.getAtIndex(F32_LE, j);
                for (int i = 0; i < m; i++) out.setAtIndex(F32_LE, (long) i * n + j, b + dot(xa, i * k, row, k));
            }
        });
    }

    /** a[aOff, aOff + k) · b[0, k), with four independent accumulators to hide the FMA latency. */
    static float dot(float[] a, int aOff, float[] b, int k) {
        FloatVector s0 = VectorMath.zeros(), s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (int bound = k - 4 * L; p <= bound; p += 4 * L) {
            s0 = FloatVector.fromArray(S, a, aOff + p).fma(FloatVector.fromArray(S, b, p), s0);
            s1 = FloatVector.fromArray(S, a, aOff + p + L).fma(FloatVector.fromArray(S, b, p + L), s1);
            s2 = FloatVector.fromArray(S, a, aOff + p + 2 * L).fma(FloatVector.fromArray(S, b, p + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, aOff + p + 3 * L).fma(FloatVector.fromArray(S, b, p + 3 * L), s3);
        }
        for (int bound = k - L; p <= bound; p += L) {
            s0 = FloatVector.fromArray(S, a, aOff + p).fma(FloatVector.fromArray(S, b, p), s0);
        }
        float sum = VectorMath.sumLanes(s0.add(s1).add(s2).add(s3));
        for (; p < k; p++) sum += a[aOff + p] * b[p];
        return sum;
    }
}
