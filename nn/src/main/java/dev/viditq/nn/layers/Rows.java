package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;


/**
 * Small float operations on F32 activations seen as rows of width {@code dim} (tokens × channels), the glue
 * between the kernels: residual adds, broadcast adds of positional tables, activations on copies.
 * Everything heavy (gemm, norms, attention) stays in {@link KernelBackend}.
 */
public final class Rows {
    private Rows() {}

    public static int rows(Tensor t) {
        return Math.toIntExact(t.numel() / t.dim(-1));
    }

    /** residual += y, element-wise. */
    public static void addInPlace(Tensor residual, Tensor y) {
        if (residual.numel() != y.numel()) {
            throw new IllegalArgumentException("cannot add " + y + " to " + residual);
        }
        KernelBackend.get().add(residual.data(), y.data(), residual.data(), residual.numel());
    }

    /**
     * Adds row {@code table[index(r)]} to every row r of {@code x} (positional embeddings broadcast over batch or
     * frames). {@code table} is F32 [tableRows, dim].
     */
    public static void addTableRows(Tensor x, float[] table, int dim, IntUnaryOperator index) {
        int rows = rows(x);
        if (x.dim(-1) != dim) throw new IllegalArgumentException("table width " + dim + " does not match " + x);
        int[] rowIndex = new int[rows];
        for (int r = 0; r < rows; r++) {
            rowIndex[r] = index.applyAsInt(r);
            if (rowIndex[r] < 0 || (long) (rowIndex[r] + 1) * dim > table.length) {
                throw new IllegalArgumentException("row " + r + " maps to table row " + rowIndex[r] + " outside the table");
            }
        }
        KernelBackend.get().addIndexedRows(x.data(), dim, table, rowIndex);
    }

    /**
     * The {@code parts} column blocks of an F32 [rows, parts · width] tensor as new [rows, width] tensors (q, k and v
     * of a fused projection as dense rows). The rows are copied on every thread: a video model's 8,192 rows × 3 ×
     * 1,152 floats per block, copied on one, were a serial stretch of each step that more threads did not shorten.
     */
    public static Tensor[] splitColumns(Tensor fused, int parts) {
        if (fused.dtype() != DType.F32 || fused.size(-1) % parts != 0) {
            throw new IllegalArgumentException("cannot split " + fused + " into " + parts + " column blocks");
        }
        int rows = rows(fused), total = fused.size(-1), width = total / parts;
        Tensor[] out = new Tensor[parts];
        for (int p = 0; p < parts; p++) out[p] = Tensor.allocate(DType.F32, false, rows, width); // every row copied
        long rowBytes = (long) width * Float.BYTES;
        int tasks = Math.min(rows, 4 * Parallel.threads());
        Parallel.forEach(tasks, t -> {
            for (long r = (long) rows * t / tasks, end = (long) rows * (t + 1) / tasks; r < end; r++) {
                for (int p = 0; p < parts; p++) {
                    MemorySegment.copy(fused.data(), (r * total + (long) p * width) * Float.BYTES, out[p].data(), r * rowBytes, rowBytes);
                }
            }
        });
        return out;
    }

    /** A copy of {@code x} with SiLU applied (the input of every adaLN linear). */
    public static Tensor silu(Tensor x) {
        Tensor y = x.toF32().copy();
        KernelBackend.get().silu(y.data(), y.numel());
        return y;
    }

    /** LayerNorm over the last dimension into a new tensor. */
    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        if (x.dtype() != DType.F32) throw new IllegalArgumentException("activation must be F32, is " + x);
        int dim = x.size(-1);
        Tensor y = Tensor.allocate(DType.F32, false, x.shape()); // the kernel writes every element
        KernelBackend.get().layerNorm(x.data(), rows(x), dim, gamma == null ? null : gamma.data(),
                beta == null ? null : beta.data(), eps, y.data());
        return y;
    }

    /** Shape as text for messages. */
    public static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }
}
