package dev.viditq.nn.sampling;

import java.util.Locale;

/**
 * How diffusers picks the inference timesteps from the training range ("Common Diffusion Noise Schedules and
 * Sample Steps are Flawed", table 2). DDIM and DPM-Solver++ share {@link #descending}; the flow samplers
 * compute their own sigmas.
 */
public enum TimestepSpacing {
    LINSPACE, LEADING, TRAILING;

    public static TimestepSpacing parse(String value) {
        for (TimestepSpacing s : values()) {
            if (s.name().toLowerCase(Locale.ROOT).equals(value)) return s;
        }
        throw new IllegalArgumentException("timestep_spacing '" + value + "' is not supported (linspace, leading, trailing)");
    }

    /**
     * The integer timesteps of diffusers' {@code set_timesteps}, highest first. {@code points} is how many values the
     * scheduler lays over the training range before keeping the top {@code steps}: DDIM lays {@code steps}, the
     * DPM-Solver family {@code steps + 1} (its last point is the final, unused timestep).
     */
    long[] descending(int trainSteps, int steps, int points, int stepsOffset, String sampler) {
        Latents.requireSteps(steps, trainSteps, sampler);
        long[] out = new long[steps];
        switch (this) {
            case LINSPACE -> {
                double[] v = NoiseSchedule.linspace(0, trainSteps - 1, points);
                for (int i = 0; i < steps; i++) out[i] = round(v[points - 1 - i]);
            }
            case LEADING -> {
                int ratio = trainSteps / points;
                for (int i = 0; i < steps; i++) out[i] = (long) (points - 1 - i) * ratio + stepsOffset;
            }
            case TRAILING -> out = trailing(trainSteps, steps, trainSteps);
        }
        for (long t : out) {
            if (t < 0 || t >= trainSteps) {
                throw new IllegalArgumentException(sampler + ": timestep " + t + " outside [0, " + trainSteps
                        + ") with steps_offset " + stepsOffset);
            }
        }
        return out;
    }

    /** Integer timesteps as the model-time values {@link Sampler#modelTimes} returns. */
    static double[] asModelTimes(long[] timesteps) {
        double[] out = new double[timesteps.length];
        for (int i = 0; i < timesteps.length; i++) out[i] = timesteps[i];
        return out;
    }

    /** np.round: halves go to the even neighbour. */
    static long round(double v) {
        return (long) Math.rint(v);
    }

    /**
     * round(np.arange(start, 0, -ratio)) as diffusers' trailing spacing computes it; numpy sizes the range as
     * ceil(start / ratio), which for some step counts yields one value too many — refused rather than copied.
     */
    static long[] trailing(double start, int steps, int trainSteps) {
        double ratio = (double) trainSteps / steps;
        int count = (int) Math.ceil((0 - start) / -ratio);
        if (count != steps) {
            throw new IllegalArgumentException("trailing timestep spacing yields " + count + " timesteps for " + steps
                    + " steps (a rounding quirk of numpy.arange in diffusers); choose another step count");
        }
        long[] out = new long[steps];
        for (int i = 0; i < steps; i++) out[i] = round(start - i * ratio) - 1;
        return out;
    }
}
