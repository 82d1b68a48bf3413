package dev.viditq.nn.sampling;

/**
 * One denoising step as a sampler announces it to the model: its index (0-based, in call order), the number of
 * steps of the run, and the time the model receives. Every sampler here makes exactly one model call per step,
 * so {@code index} is also the index of the model call.
 *
 * @param index     0 ≤ index &lt; total
 * @param total     number of steps (= model calls) of this run
 * @param modelTime the timestep passed to the network: an integer in [0, 1000) for the discrete samplers,
 *                  1000·(t − 1e-3) for PixArt's DPM-Solver, a real in (0, 1000] for rectified flow
 */
public record Step(int index, int total, double modelTime) {
    public Step {
        if (total < 1 || index < 0 || index >= total) {
            throw new IllegalArgumentException("step " + index + " of " + total);
        }
    }

    public boolean isLast() {
        return index == total - 1;
    }
}
