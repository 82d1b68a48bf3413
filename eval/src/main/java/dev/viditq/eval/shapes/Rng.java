package dev.viditq.eval.shapes;

/**
 * SplitMix64: a tiny generator written out here, rather than {@code java.util.Random}, so that every scene of
 * every split is bit-for-bit the same on any JDK, forever. {@link #mix} also seeds per-index streams, which makes
 * scene {@code i} of a training stream computable without generating scenes 0..i-1.
 */
final class Rng {
    private long state;

    Rng(long seed) {
        this.state = seed;
    }

    /** A well-mixed 64-bit value of (a, b); distinct pairs give unrelated streams. */
    static long mix(long a, long b) {
        return finish(finish(a + 0x9E3779B97F4A7C15L) ^ b);
    }

    private static long finish(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return finish(state);
    }

    /** Uniform in [0, bound). */
    int nextInt(int bound) {
        return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
    }

    /** Uniform in [0, 1). */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    boolean chance(double p) {
        return nextDouble() < p;
    }

    <T> T pick(T[] values) {
        return values[nextInt(values.length)];
    }
}
