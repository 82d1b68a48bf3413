package dev.viditq.core.kernels.quant;

import java.util.OptionalLong;
import java.util.Random;

/**
 * An orthogonal rotation Q = D · blockdiag(H_b) / √b of vectors of length {@code dim}: D is an optional random
 * ±1 diagonal (a "randomized Hadamard", from a seed, so a checkpoint stores the seed, not the matrix), H_b a
 * Hadamard matrix of order b ({@link Hadamard}) repeated on each of the dim / b consecutive blocks
 * (b = dim is the full rotation). Rows are rotated from the right: v ← v · Q.
 *
 * <p>Used twice with the same object: online on activations, fused into quantization
 * ({@link ActivationTransform}), and offline on weight rows by {@link #rotate(float[], int)}, so that
 * (x·Q)·(W·Q)ᵀ = x·Wᵀ.
 *
 * <p>The signs come from {@link java.util.Random} seeded with {@code seed} (its algorithm is fixed by the Java
 * specification): sign[i] = nextBoolean() ? -1 : +1, i = 0 .. dim-1.
 */
public final class HadamardRotation {
    private final int dim;
    private final Hadamard.Order order;
    private final OptionalLong seed;
    private final float[] signs;   // null without random signs
    private final float[] hmat;    // H_m, row-major
    private final float norm;      // 1/√b

    private HadamardRotation(int dim, int block, OptionalLong seed) {
        if (dim <= 0 || block <= 0 || dim % block != 0) {
            throw new IllegalArgumentException("Hadamard block size " + block + " must divide the dimension " + dim);
        }
        this.dim = dim;
        this.order = Hadamard.order(block);
        this.seed = seed;
        this.hmat = Hadamard.baseMatrix(order.m());
        this.norm = (float) (1.0 / Math.sqrt(block));
        if (seed.isPresent()) {
            Random r = new Random(seed.getAsLong());
            signs = new float[dim];
            for (int i = 0; i < dim; i++) signs[i] = r.nextBoolean() ? -1f : 1f;
        } else {
            signs = null;
        }
    }

    /** Randomized: random ±1 signs from {@code seed}, then Hadamard blocks of size {@code block}. */
    public static HadamardRotation randomized(int dim, int block, long seed) {
        return new HadamardRotation(dim, block, OptionalLong.of(seed));
    }

    /** Plain Hadamard blocks, no random signs. */
    public static HadamardRotation plain(int dim, int block) {
        return new HadamardRotation(dim, block, OptionalLong.empty());
    }

    public int dim() { return dim; }

    /** Hadamard block size b (dim for a full rotation). */
    public int block() { return order.n(); }

    /** How the block's Hadamard matrix is built (b = m · 2^j). */
    public Hadamard.Order order() { return order; }

    /** The seed of the random signs, empty for a plain rotation. */
    public OptionalLong seed() { return seed; }

    /** Sign i of the diagonal D (1 for a plain rotation). */
    public float sign(int i) {
        return signs == null ? 1f : signs[i];
    }

    /** 1/√b, the normalization that makes Q orthogonal. */
    public float normalization() { return norm; }

    /**
     * In place: row[off, off + dim) ← row · Q (random signs, Hadamard blocks, 1/√b). For weights, offline;
     * exactly the arithmetic the quantizer applies to activations, followed by the normalization.
     */
    public void rotate(float[] row, int off) {
        float[] out = new float[dim];
        float[] tmp = new float[RotationMath.scratchFloats(block())];
        RotationMath.transform(row, off, dim, signs, block(), order.m(), hmat, out, tmp);
        for (int i = 0; i < dim; i++) row[off + i] = out[i] * norm;
    }

    /** In place: each of the {@code rows} consecutive rows of length dim in {@code data} ← row · Q. */
    public void rotateRows(float[] data, int rows) {
        for (int r = 0; r < rows; r++) rotate(data, r * dim);
    }

    float[] signsOrNull() { return signs; }

    float[] baseMatrix() { return hmat; }

    @Override
    public String toString() {
        return "HadamardRotation[dim=" + dim + ", block=" + block() + " (" + order.m() + "·" + order.p() + ")"
                + (seed.isPresent() ? ", seed=" + seed.getAsLong() : ", no signs") + "]";
    }
}
