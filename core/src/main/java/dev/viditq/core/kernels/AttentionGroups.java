package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;

import java.lang.foreign.MemorySegment;

/**
 * How {@link Kernels#attentionGroups} runs its groups: one after another, each call spreading its heads over the
 * pool, or (CPU kernels, when the groups fill the threads evenly) one group per task, the group's own attention
 * running on that task's thread (a nested pool call runs inline). The second makes one pool call where the first
 * makes one or two per group: a video model's spatial attention has a group per frame (32 for a guided batch of 16
 * frames, each a few hundred microseconds of work at 16 threads), and every pool call waits for its slowest thread.
 * Either way each group's arithmetic is that of a call of its own, so the two give the same bits. The FP32 kernels
 * use this; the BF16 kernels take the groups' heads together in their own pool calls
 * ({@link dev.viditq.core.kernels.quant.NativeMatrix#attentionGroups}).
 */
public final class AttentionGroups {
    /** The least share of the threads' time the last round of groups must fill for the groups to run in parallel. */
    static final double MIN_BALANCE = 0.75;

    private AttentionGroups() {}

    /** Refuses a negative group count (none is a call that does nothing). */
    public static void checkCount(int groups) {
        if (groups < 0) throw new IllegalArgumentException("attention over " + groups + " groups");
    }

    /** Every group by its own {@code kernels.attention} call, in turn; groups that are extra heads by one call. */
    public static void inTurn(Kernels kernels, int groups, GroupStrides between, MemorySegment q, int qStride,
                              MemorySegment k, int kStride, MemorySegment v, int vStride, MemorySegment out, int oStride,
                              int lq, int lk, int heads, int headDim, float scale, AttentionBias bias) {
        checkCount(groups);
        if (areExtraHeads(groups, between, heads, headDim, bias)) {
            kernels.attention(q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, groups * heads, headDim, scale, bias);
            return;
        }
        for (int g = 0; g < groups; g++) {
            one(kernels, g, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads, headDim, scale, bias);
        }
    }

    /**
     * True when group g's head h is head g·heads + h of one call: every operand's groups heads·headDim floats apart
     * (a video's temporal sequences in dense rows), with no per-head bias to repeat.
     */
    static boolean areExtraHeads(int groups, GroupStrides between, int heads, int headDim, AttentionBias bias) {
        long width = (long) heads * headDim;
        return groups > 1 && (long) groups * heads <= Integer.MAX_VALUE && (bias == null || bias.perHead() == null)
                && between.q() == width && between.k() == width && between.v() == width && between.out() == width;
    }

    /** A group per pool task when that keeps the threads evenly busy, else {@link #inTurn}. */
    public static void onThreads(Kernels kernels, int groups, GroupStrides between, MemorySegment q, int qStride,
                                 MemorySegment k, int kStride, MemorySegment v, int vStride, MemorySegment out,
                                 int oStride, int lq, int lk, int heads, int headDim, float scale, AttentionBias bias) {
        checkCount(groups);
        if (!spreadsEvenly(groups, Parallel.threads())) {
            inTurn(kernels, groups, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk, heads, headDim, scale, bias);
            return;
        }
        Parallel.forEach(groups, g -> one(kernels, g, between, q, qStride, k, kStride, v, vStride, out, oStride, lq, lk,
                heads, headDim, scale, bias));
    }

    /** True when {@code groups} tasks on {@code threads} threads keep at least {@link #MIN_BALANCE} of them busy. */
    static boolean spreadsEvenly(int groups, int threads) {
        if (groups < 2 || groups < threads) return false;
        long rounds = Math.ceilDiv(groups, threads);
        return (double) groups / (rounds * threads) >= MIN_BALANCE;
    }

    private static void one(Kernels kernels, int g, GroupStrides between, MemorySegment q, int qStride, MemorySegment k,
                            int kStride, MemorySegment v, int vStride, MemorySegment out, int oStride, int lq, int lk,
                            int heads, int headDim, float scale, AttentionBias bias) {
        kernels.attention(group(q, g, between.q()), qStride, group(k, g, between.k()), kStride, group(v, g, between.v()),
                vStride, group(out, g, between.out()), oStride, lq, lk, heads, headDim, scale, bias);
    }

    private static MemorySegment group(MemorySegment s, int g, long groupStride) {
        return s.asSlice(g * groupStride * Float.BYTES);
    }
}
