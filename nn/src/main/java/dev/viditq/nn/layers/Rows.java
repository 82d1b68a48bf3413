package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Small float operations on F32 activations seen as rows of width {@code dim} (tokens × channels), the glue
 * between the kernels: residual adds, broadcast adds of positional tables, activations on copies.
 * Everything heavy (gemm, norms, attention) stays in {@link KernelBackend}.
 */
public final class Rows {
    private Rows() {}

    /** Checks that {@code t} is F32 and returns its row width (last dimension). */
    public static int width(Tensor t) {
        requireF32(t);
        return t.size(-1);
    }

    public static void requireF32(Tensor t) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("activation must be F32, is " + t);
    }

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
    public static void addTableRows(Tensor x, float[] table, int dim, java.util.function.IntUnaryOperator index) {
        MemorySegment s = x.data();
        int rows = rows(x);
        if (x.dim(-1) != dim) throw new IllegalArgumentException("table width " + dim + " does not match " + x);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * dim;
            int t = index.applyAsInt(r) * dim;
            for (int c = 0; c < dim; c++) s.setAtIndex(F32_LE, o + c, s.getAtIndex(F32_LE, o + c) + table[t + c]);
        }
    }

    /** A copy of {@code x} with SiLU applied (the input of every adaLN linear). */
    public static Tensor silu(Tensor x) {
        Tensor y = x.toF32().copy();
        KernelBackend.get().silu(y.data(), y.numel());
        return y;
    }

    /** LayerNorm over the last dimension into a new tensor. */
    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        int dim = width(x);
        Tensor y = Tensor.zeros(x.shape());
        KernelBackend.get().layerNorm(x.data(), rows(x), dim, gamma == null ? null : gamma.data(),
                beta == null ? null : beta.data(), eps, y.data());
        return y;
    }

    /** Rows {@code [from, to)} of a [rows, dim] activation as a new contiguous tensor of shape [to-from, dim]. */
    public static Tensor copyRows(Tensor x, long from, long to) {
        int dim = x.size(-1);
        Tensor y = Tensor.zeros(to - from, dim);
        y.data().copyFrom(x.data().asSlice(from * dim * 4L, (to - from) * dim * 4L));
        return y;
    }

    /** An F32 tensor of the given shape holding {@code values}. */
    public static Tensor of(float[] values, long... shape) {
        return Tensor.of(values, shape);
    }

    /** Shape as text for messages. */
    public static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }
}
