package dev.viditq.quant.method;

import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.QuantPlan;

/**
 * A post-training quantization method: turns (model, calibration, config) into a per-Linear {@link QuantPlan}.
 * The weights are not touched here; {@link dev.viditq.quant.runtime.Quantizer} applies the plan (transform, then
 * quantize once).
 */
public interface QuantMethod {
    QuantConfig.Method id();

    /**
     * @param calibration statistics of this model (checked against it), or null when the config needs none
     *                    ({@link QuantConfig#needsCalibration()})
     */
    QuantPlan plan(Denoiser model, Calibration calibration, QuantConfig config);
}
