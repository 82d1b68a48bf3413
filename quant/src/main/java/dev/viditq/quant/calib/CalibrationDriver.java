package dev.viditq.quant.calib;

import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.sampling.StepListener;

import java.util.List;

/**
 * Runs calibration prompts through a float model, one whole sampling loop per prompt. Two kinds:
 * {@link PipelineDriver} (a complete model folder: text → encoder → sampler; the VAE decode is part of the run) and
 * {@link DenoiserDriver} (a bare denoiser: class labels or given caption embeddings → sampler, no decode).
 */
public interface CalibrationDriver {
    Denoiser model();

    /** One line per prompt, stored in the calibration file (a resumed run must have the same ones). */
    List<String> prompts();

    Calibration.Settings settings();

    /** Runs prompt {@code index} through every sampling step; {@code listener} hears each step. */
    void run(int index, StepListener listener);
}
