package dev.viditq.quant.plan;

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

    /**
     * The bucket of a forward pass at model time {@code timestep}: the nearest calibrated timestep, or 0 with one
     * bucket or outside a sampling loop ({@code timestep} NaN).
     */
    public int bucket(double timestep) {
        if (timesteps.length == 1 || Double.isNaN(timestep)) return 0;
        int best = 0;
        for (int i = 1; i < timesteps.length; i++) {
            if (Math.abs(timesteps[i] - timestep) < Math.abs(timesteps[best] - timestep)) best = i;
        }
        return best;
    }

    /** The range in bucket {@code bucket} of a row of the conditional ({@code uncond} false) or unconditional half. */
    public float absmax(int bucket, boolean uncond) {
        return absmax[bucket * halves() + (cfgSplit && uncond ? 1 : 0)];
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
