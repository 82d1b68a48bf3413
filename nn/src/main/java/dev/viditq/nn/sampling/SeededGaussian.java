package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * Deterministic N(0, 1) values from a seed: {@link SplittableRandom} (SplitMix64, specified and unchanged since
 * Java 8) gives uniform doubles u1, u2 with 53 random bits, and the Box–Muller transform turns each pair into two
 * normals z0 = r·cos(2πu2), z1 = r·sin(2πu2) with r = sqrt(−2·ln(1 − u1)), written in that order. Values are
 * drawn sequentially on the calling thread, so the stream depends only on the seed and the order of requests,
 * never on the thread count or the JDK's own Gaussian algorithm (which {@code nextGaussian} does not specify).
 */
public final class SeededGaussian implements GaussianNoise {
    private final SplittableRandom random;
    private double spare;
    private boolean hasSpare;

    public SeededGaussian(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The next standard normal value. */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        double r = Math.sqrt(-2.0 * Math.log1p(-u1)); // 1 - u1 lies in (0, 1]: the log is finite
        double angle = 2.0 * Math.PI * u2;
        spare = r * Math.sin(angle);
        hasSpare = true;
        return r * Math.cos(angle);
    }

    @Override
    public Tensor next(long... shape) {
        Tensor t = Tensor.zeros(shape);
        long n = t.numel();
        for (long i = 0; i < n; i++) t.setFloat(i, (float) nextGaussian());
        return t;
    }
}
