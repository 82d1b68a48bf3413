package dev.viditq.core.parallel;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the calls of {@link Parallel#forEach} that reached the helpers cost, totals while counting was on (calls run
 * inline are not counted). Answers where a many-thread step loses its time: in the calls' wall time, how much of the
 * threads' capacity worked, how late the helpers joined (a helper that had parked must be woken; a descheduled one
 * waits for a core), and how long the caller waited for the others' indices after its own share. A helper that
 * arrives once every index is done has nothing to take and is not counted.
 *
 * @param calls            counted calls
 * @param wallNanos        their wall time, publication to the last index's end
 * @param capacityNanos    wall time × the threads a call was meant for (the caller and the helpers it woke), summed
 * @param busyNanos        time the taking-part threads spent in the calls' bodies (the caller's share included)
 * @param helperJoins      helpers that joined before the call ended
 * @param helperStartNanos summed delay from publication to a helper's start
 * @param lateJoins        helpers that started more than {@link #LATE_JOIN_NANOS} after publication
 * @param callerWaitNanos  time the caller spun after its share until every index was done
 * @param parkedWakes      helpers that had parked and had to be woken
 */
public record PoolStats(long calls, long wallNanos, long capacityNanos, long busyNanos, long helperJoins,
                        long helperStartNanos, long lateJoins, long callerWaitNanos, long parkedWakes) {
    /** A join later than this was not a spinning helper's (those join within a few microseconds). */
    public static final long LATE_JOIN_NANOS = 100_000;

    public static final PoolStats NONE = new PoolStats(0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** The counts of this and {@code other} together. */
    public PoolStats plus(PoolStats other) {
        return new PoolStats(calls + other.calls, wallNanos + other.wallNanos, capacityNanos + other.capacityNanos,
                busyNanos + other.busyNanos, helperJoins + other.helperJoins, helperStartNanos + other.helperStartNanos,
                lateJoins + other.lateJoins, callerWaitNanos + other.callerWaitNanos, parkedWakes + other.parkedWakes);
    }

    /** The counts between {@code earlier} and this. */
    public PoolStats minus(PoolStats earlier) {
        return plus(earlier.dividedBy(-1));
    }

    /** The mean of n intervals whose counts this sums (the ratios are unchanged); -1 negates. */
    public PoolStats dividedBy(int n) {
        return new PoolStats(calls / n, wallNanos / n, capacityNanos / n, busyNanos / n, helperJoins / n,
                helperStartNanos / n, lateJoins / n, callerWaitNanos / n, parkedWakes / n);
    }

    /** The fraction of the taking-part threads' time inside the calls that went into the bodies. */
    public double busyFraction() {
        return capacityNanos > 0 ? (double) busyNanos / capacityNanos : 0;
    }

    /** Mean delay from publication to a helper's start, microseconds. */
    public double meanHelperStartMicros() {
        return helperJoins > 0 ? helperStartNanos / 1e3 / helperJoins : 0;
    }

    /** Mean time the caller waited for the others' indices per call, microseconds. */
    public double meanCallerWaitMicros() {
        return calls > 0 ? callerWaitNanos / 1e3 / calls : 0;
    }

    /** The running totals, added to by the callers of every pool (the process pool and threads' own pools) and read by anyone. */
    static final class Counters {
        private final LongAdder calls = new LongAdder(), wall = new LongAdder(), capacity = new LongAdder(),
                busy = new LongAdder(), joins = new LongAdder(), start = new LongAdder(), late = new LongAdder(),
                callerWait = new LongAdder(), wakes = new LongAdder();

        /** One finished call: its helpers' counts, the threads taking part, the wakes, and the caller's clock readings. */
        void add(JobCounters helpers, int threads, int parkedWakes, long published, long callerStart, long callerDone,
                 long end) {
            calls.increment();
            wall.add(end - published);
            capacity.add((end - published) * threads);
            busy.add(helpers.busy.get() + (callerDone - callerStart));
            joins.add(helpers.joins.get());
            start.add(helpers.start.get());
            late.add(helpers.late.get());
            callerWait.add(end - callerDone);
            wakes.add(parkedWakes);
        }

        PoolStats snapshot() {
            return new PoolStats(calls.sum(), wall.sum(), capacity.sum(), busy.sum(), joins.sum(), start.sum(), late.sum(),
                    callerWait.sum(), wakes.sum());
        }
    }

    /** The helpers' part of one counted call. */
    static final class JobCounters {
        private final AtomicLong busy = new AtomicLong(), joins = new AtomicLong(), start = new AtomicLong(),
                late = new AtomicLong();

        void helperWorked(long startDelay, long worked) {
            joins.incrementAndGet();
            start.addAndGet(startDelay);
            if (startDelay > LATE_JOIN_NANOS) late.incrementAndGet();
            busy.addAndGet(worked);
        }
    }
}
