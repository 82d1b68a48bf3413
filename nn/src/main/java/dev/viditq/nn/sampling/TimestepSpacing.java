package dev.viditq.nn.sampling;

import java.util.Locale;

/**
 * How diffusers picks the inference timesteps from the training range ("Common Diffusion Noise Schedules and
 * Sample Steps are Flawed", table 2). The exact formulas differ per scheduler and live in each sampler.
 */
public enum TimestepSpacing {
    LINSPACE, LEADING, TRAILING;

    public static TimestepSpacing parse(String value) {
        for (TimestepSpacing s : values()) {
            if (s.name().toLowerCase(Locale.ROOT).equals(value)) return s;
        }
        throw new IllegalArgumentException("timestep_spacing '" + value + "' is not supported (linspace, leading, trailing)");
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
