package dev.viditq.nn.sampling;

/**
 * The discrete DDPM noise schedule shared by every ε-sampler here, in float64:
 * β linear from {@code betaStart} to {@code betaEnd} over {@code trainSteps} (numpy's linspace), ᾱ_t = ∏(1 − β).
 */
public record NoiseSchedule(int trainSteps, double betaStart, double betaEnd) {
    /** 1000 steps, β from 1e-4 to 0.02: DiT, PixArt, Latte, Open-Sora 1.0/1.1. */
    public static final NoiseSchedule DEFAULT = new NoiseSchedule(1000, 1e-4, 0.02);

    public NoiseSchedule {
        if (trainSteps < 2) throw new IllegalArgumentException("num_train_timesteps must be at least 2, got " + trainSteps);
        if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
            throw new IllegalArgumentException("betas must satisfy 0 < beta_start <= beta_end < 1, got "
                    + betaStart + ".." + betaEnd);
        }
    }

    public double[] betas() {
        return linspace(betaStart, betaEnd, trainSteps);
    }

    public double[] alphasCumprod() {
        double[] betas = betas();
        double[] out = new double[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= 1.0 - betas[i];
            out[i] = acc;
        }
        return out;
    }

    /** numpy.linspace(start, stop, num): start + i·step, with the last value exactly {@code stop}. */
    public static double[] linspace(double start, double stop, int num) {
        double[] out = new double[num];
        if (num == 1) {
            out[0] = start;
            return out;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) out[i] = i * step + start;
        out[num - 1] = stop;
        return out;
    }
}
