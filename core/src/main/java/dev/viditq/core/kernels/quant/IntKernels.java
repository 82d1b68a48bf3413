package dev.viditq.core.kernels.quant;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;

import java.lang.foreign.MemorySegment;

/**
 * The integer kernels of quantized linear layers: per-token activation quantization (with the ViDiT-Q
 * balancing and rotation fused into it) and the W8A8 / W4A8 GEMMs. Implementations: {@link ScalarIntKernels}
 * (the oracle), {@link JavaIntKernels} (Vector API) and {@link NativeIntKernels} (C, AVX-512 VNNI / AVX2 /
 * portable, through FFM); {@link IntKernelBackend#get()} returns the one chosen at start-up.
 *
 * <p>A quantized linear layer is {@code quantize(x) → gemm(...)}: out[m, n] ≈ x[m, k] · W[n, k]ᵀ + bias.
 * Float buffers are F32, row-major, little-endian {@link MemorySegment}s (off-heap ones avoid a copy in the
 * native implementation). Implementations are thread-safe and spread each call over
 * {@link dev.viditq.core.parallel.Parallel}.
 */
public interface IntKernels {
    /** e.g. "native avx512-vnni", "java", "scalar". */
    String name();

    /**
     * Per-token dynamic symmetric quantization of x [rows, k] into {@code out} (rows ≤ out.capacity()):
     * y = transform(x) (see {@link ActivationTransform}; null for none), scale = absmax(y) / 127 per row,
     * q = clamp(rint(y / scale), -127, 127) rounding half to even, and the row sums of q. A row of zeros gets
     * scale 0. Results for non-finite inputs are unspecified.
     */
    void quantize(MemorySegment x, int rows, int k, ActivationTransform transform, QuantizedActivations out);

    /**
     * out[r, c] = (Σ_k q[r, k] · (qw[c, k] − zw[c])) · sx[r] · sw[c] + bias[c] for the {@code x.rows()} rows;
     * {@code bias} F32 [n] or null, {@code out} F32 [rows, n].
     */
    void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out);

    /**
     * out[r, c] = sx[r] · Σ_g sw[c, g] · Σ_{k in g} q[r, k] · (qw[c, k] − zw[c, g]) + bias[c];
     * {@code bias} F32 [n] or null, {@code out} F32 [rows, n].
     */
    void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out);

    /**
     * A whole quantized linear layer: {@code quantize(x → scratch)} then {@link #gemm}. {@code scratch} holds at
     * least {@code rows} rows of k = w.k() (reuse one per layer or per thread).
     */
    default void linear(MemorySegment x, int rows, ActivationTransform transform, QuantizedActivations scratch,
                        PackedWeight w, MemorySegment bias, MemorySegment out) {
        quantize(x, rows, w.k(), transform, scratch);
        gemm(scratch, w, bias, out);
    }

    /** {@link #gemmW8A8} or {@link #gemmW4A8}, by the weight's type. */
    default void gemm(QuantizedActivations x, PackedWeight w, MemorySegment bias, MemorySegment out) {
        switch (w) {
            case PackedInt8Weight w8 -> gemmW8A8(x, w8, bias, out);
            case PackedInt4Weight w4 -> gemmW4A8(x, w4, bias, out);
        }
    }

    /**
     * {@link #gemm}, then {@code activation} (null: none) on every output: by default a pass of the
     * {@link KernelBackend}'s kernels over them; an implementation that computes it in its epilogue gives the same
     * bits as the Java kernels' pass.
     */
    default void gemm(QuantizedActivations x, PackedWeight w, MemorySegment bias, Activation activation, MemorySegment out) {
        gemm(x, w, bias, out);
        if (activation != null) activation.applyInPlace(KernelBackend.get(), out, (long) x.rows() * w.n());
    }
}
