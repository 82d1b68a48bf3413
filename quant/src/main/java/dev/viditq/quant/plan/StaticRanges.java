package dev.viditq.quant.plan;

import dev.viditq.nn.pipeline.StepContext;

import java.util.Arrays;

/**
 * Fixed activation ranges of a layer with static quantization: the abs-max of its (balanced) input per bucket and
 * CFG half, from calibration. A bucket is one calibrated timestep ({@code perTimestep}; a run picks the bucket of the
 * nearest calibrated timestep) or all of them (one bucket). With {@code cfgSplit} rows of the conditional and the
 * unconditional half get their own range. The scale of a row is absmax / (2^(bits−1) − 1).
 *
 * @param timesteps model time of each bucket (length = buckets; NaN for a single all-steps bucket)
 * @param absmax    [buckets][halves], halves = 2 with cfgSplit, else 1
 */
public record StaticRanges(double[] timesteps, boolean cfgSplit, float[] absmax) {
    public StaticRanges {
        int halves = cfgSplit ? 2 : 1;
        if (absmax.length != timesteps.length * halves) {
            throw new IllegalArgumentException(absmax.length + " ranges for " + timesteps.length + " buckets × " + halves + " halves");
        }
        for (float a : absmax) {
            if (!(a >= 0) || Float.isInfinite(a)) throw new IllegalArgumentException("activation range " + a + " is not a finite non-negative number");
        }
    }

    public int buckets() {
        return timesteps.length;
    }

    public int halves() {
        return cfgSplit ? 2 : 1;
    }

    /** The bucket of a forward pass: nearest calibrated timestep, or 0 with one bucket or outside a sampling loop. */
    public int bucket(StepContext ctx) {
        if (timesteps.length == 1 || !ctx.active() || Double.isNaN(ctx.timestep())) return 0;
        int best = 0;
        for (int i = 1; i < timesteps.length; i++) {
            if (Math.abs(timesteps[i] - ctx.timestep()) < Math.abs(timesteps[best] - ctx.timestep())) best = i;
        }
        return best;
    }

    /** The range of row {@code row} of {@code rows} in bucket {@code bucket}. */
    public float absmax(int bucket, StepContext.CfgHalf half, int row, int rows) {
        int h = cfgSplit && half.isUncondRow(row, rows) ? 1 : 0;
        return absmax[bucket * halves() + h];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StaticRanges r && cfgSplit == r.cfgSplit && Arrays.equals(timesteps, r.timesteps)
                && Arrays.equals(absmax, r.absmax);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(absmax);
    }
}
