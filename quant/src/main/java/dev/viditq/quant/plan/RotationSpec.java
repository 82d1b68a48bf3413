package dev.viditq.quant.plan;

import dev.viditq.core.kernels.quant.HadamardRotation;

/**
 * A layer's randomized Hadamard rotation as the checkpoint stores it: the block size (the input size, or a divisor
 * of it with a Hadamard order) and the seed of the ±1 signs; {@link HadamardRotation} regenerates the same
 * rotation from these two numbers on any machine (java.util.Random's algorithm is fixed by the Java specification).
 */
public record RotationSpec(int block, long seed) {
    public HadamardRotation build(int dim) {
        return HadamardRotation.randomized(dim, block, seed);
    }
}
