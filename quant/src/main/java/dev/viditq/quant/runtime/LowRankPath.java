package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A layer's low-rank branch as it runs, beside the integer (or simulated) GEMM: out += (x·downᵀ)·upᵀ, two float
 * GEMMs of rank r on the layer's input x as it arrives — no second balancing or rotation pass over x. The factors
 * live in the balanced basis ({@link LowRankBranch}): where the model already multiplies the input by the balancing
 * vector m (folded) down = L₂ as stored, otherwise down = L₂ with m multiplied into its columns here, once, and
 * rounded to BF16 like the stored factor. Both factors stay BF16, so the branch holds 2·r·(n + k) bytes.
 */
public final class LowRankPath {
    private final int n, k, rank;
    private final Tensor down;   // [rank, k] BF16
    private final Tensor up;     // [n, rank] BF16

    /** @param smooth the balancing vector the input has not had yet (null when folded or absent) */
    public LowRankPath(LowRankBranch branch, float[] smooth) {
        this.n = branch.n();
        this.k = branch.k();
        this.rank = branch.rank();
        float[] d = branch.l2().clone();
        if (smooth != null) {
            for (int c = 0; c < rank; c++) for (int j = 0; j < k; j++) d[c * k + j] *= smooth[j];
        }
        this.down = Tensor.of(d, rank, k).to(DType.BF16);
        this.up = Tensor.of(branch.l1(), n, rank).to(DType.BF16);
    }

    public long residentBytes() {
        return down.byteSize() + up.byteSize();
    }

    /** out[rows, n] += L₁·(down·x) for x [rows, k]. */
    public void addTo(MemorySegment x, int rows, MemorySegment out) {
        Kernels kernels = KernelBackend.get();
        Buffers b = buffers(rows);
        kernels.gemm(x, rows, k, down, null, b.low);
        kernels.gemm(b.low, rows, rank, up, null, b.high);
        kernels.add(out, b.high, out, (long) rows * n);
    }

    /** Scratch for one call, shared by the layers of a thread with the same (rank, n): it lives only inside addTo. */
    private Buffers buffers(int rows) {
        Map<Long, Buffers> byShape = SCRATCH.get();
        long key = ((long) rank << 32) | n;
        Buffers b = byShape.get(key);
        if (b == null || b.rows < rows) {
            b = new Buffers(Math.max(rows, 16), rank, n);
            byShape.put(key, b);
        }
        return b;
    }

    private static final class Buffers {
        final int rows;
        final MemorySegment low, high;

        Buffers(int rows, int rank, int n) {
            this.rows = rows;
            this.low = Tensor.zeros(DType.F32, rows, rank).data();
            this.high = Tensor.zeros(DType.F32, rows, n).data();
        }
    }

    private static final ThreadLocal<Map<Long, Buffers>> SCRATCH = ThreadLocal.withInitial(HashMap::new);
}
