package dev.viditq.core.kernels.quant;

import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What the activation quantizer applies to each token before quantizing, fused in one pass:
 * y = ((x ⊙ smooth) ⊙ signs) · blockdiag(H_b) / √b — the ViDiT-Q static channel balancing (smooth, may be null)
 * followed by an optional {@link HadamardRotation} (may be null). The weights must get the matching transform
 * offline: {@link #transformWeightRow(float[], int)} computes (w / smooth) · Q.
 *
 * <p>The balancing vector and the random signs are merged into one diagonal at construction; the 1/√b of the
 * rotation is folded into the per-token scale, not applied to the values.
 */
public final class ActivationTransform {
    private final int k;
    private final float[] smooth;          // null when absent
    private final HadamardRotation rotation;
    private final float[] diag;            // smooth ⊙ signs, null when both absent
    private final MemorySegment diagSegment;
    private final MemorySegment hmatSegment;

    private ActivationTransform(int k, float[] smooth, HadamardRotation rotation) {
        if (smooth != null && smooth.length != k) {
            throw new IllegalArgumentException("balancing vector has " + smooth.length + " entries, layer input has " + k);
        }
        if (rotation != null && rotation.dim() != k) {
            throw new IllegalArgumentException(rotation + " does not match layer input size " + k);
        }
        this.k = k;
        this.smooth = smooth == null ? null : smooth.clone();
        this.rotation = rotation;
        float[] signs = rotation == null ? null : rotation.signsOrNull();
        if (smooth == null && signs == null) {
            diag = null;
        } else {
            diag = new float[k];
            for (int i = 0; i < k; i++) diag[i] = (smooth == null ? 1f : smooth[i]) * (signs == null ? 1f : signs[i]);
        }
        diagSegment = diag == null ? MemorySegment.NULL : copy(diag);
        hmatSegment = rotation == null || rotation.order().m() == 1 ? MemorySegment.NULL : copy(rotation.baseMatrix());
    }

    /** A transform of layer inputs of size k; {@code smooth} and {@code rotation} may each be null. */
    public static ActivationTransform of(int k, float[] smooth, HadamardRotation rotation) {
        return new ActivationTransform(k, smooth, rotation);
    }

    private static MemorySegment copy(float[] values) {
        MemorySegment s = Arena.ofAuto().allocate((long) values.length * Float.BYTES, Tensor.ALIGNMENT);
        MemorySegment.copy(values, 0, s, Tensor.F32_LE, 0, values.length);
        return s;
    }

    public int k() { return k; }

    /** The balancing vector, or null. */
    public float[] smooth() { return smooth == null ? null : smooth.clone(); }

    /** The rotation, or null. */
    public HadamardRotation rotation() { return rotation; }

    /** True when the quantizer has nothing to apply. */
    public boolean isIdentity() { return diag == null && rotation == null; }

    /** In place: w[off, off + k) ← (w / smooth) · Q, the weight-side counterpart (per output channel row). */
    public void transformWeightRow(float[] w, int off) {
        if (smooth != null) for (int i = 0; i < k; i++) w[off + i] /= smooth[i];
        if (rotation != null) rotation.rotate(w, off);
    }

    // For the kernels.
    float[] diag() { return diag; }
    MemorySegment diagSegment() { return diagSegment; }
    MemorySegment hmatSegment() { return hmatSegment; }
    int hadamardBlock() { return rotation == null ? 0 : rotation.block(); }
    int hadamardM() { return rotation == null ? 1 : rotation.order().m(); }
    float[] hadamardBase() { return rotation == null ? null : rotation.baseMatrix(); }
    /** Multiplies the per-token scale: the 1/√b the values do not get. */
    float post() { return rotation == null ? 1f : rotation.normalization(); }

    @Override
    public String toString() {
        return "ActivationTransform[k=" + k + (smooth != null ? ", balancing" : "")
                + (rotation != null ? ", " + rotation : "") + "]";
    }
}
