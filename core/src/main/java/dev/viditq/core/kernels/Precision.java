package dev.viditq.core.kernels;

import java.util.Locale;

/**
 * The arithmetic of the float path ({@link KernelBackend}):
 * <ul>
 *   <li>{@link #FP32}: FP32 throughout, as the reference implementations compute; golden parity runs in it.</li>
 *   <li>{@link #BF16}: GEMMs and attention multiply bf16 × bf16 and accumulate in FP32, as PyTorch's bf16
 *       autocast does: activations are rounded to bf16 (8 significant bits) on the way in, weights once at load;
 *       attention rounds q, k, v and the softmax weights (the scores and the online softmax stay FP32), on
 *       AMX-BF16 tiles or AVX512-BF16's vdpbf16ps. Everything else (norms, softmax, activations functions,
 *       residuals) stays FP32. Measured error: docs/RESULTS.md.</li>
 *   <li>{@link #AUTO}: BF16 where the CPU has a unit that makes it faster (AMX-BF16; AVX512-BF16 on AMD), else
 *       FP32.</li>
 * </ul>
 */
public enum Precision {
    FP32, BF16, AUTO;

    /** "fp32", "bf16" or "auto" (any case); a clear error otherwise. */
    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + s + "' (fp32, bf16 or auto)");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
