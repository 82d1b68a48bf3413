package dev.viditq.nn.sampling;

/** What a sampler expects the model function to return. */
public enum Prediction {
    /** The noise ε of x_t = α_t·x0 + σ_t·ε (DDPM family: IDDPM, DDIM, DPM-Solver). */
    EPSILON,
    /** The rectified-flow velocity x0 − noise (Open-Sora 1.2). */
    VELOCITY,
    /** diffusers' flow_prediction, noise − x0: the opposite sign of {@link #VELOCITY} (Wan 2.1 with UniPC). */
    FLOW
}
