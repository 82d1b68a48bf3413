package dev.viditq.quant.calib;

import java.io.Serial;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one calibration prompt contributes: every Linear's statistics over that prompt alone, its input Hessian summed
 * over that prompt alone (when collected) and the model time of every step. {@link Calibration#append} folds parts in
 * prompt order; the single-process run records and folds the same parts, so a run that records its prompts anywhere
 * (other threads, other machines) and folds them in order writes the same bytes.
 */
public final class CalibrationPart implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int prompt;
    private final double[] timesteps;
    private final LinkedHashMap<String, LayerStats> layers;
    private final LinkedHashMap<String, LayerHessian> hessians;   // empty when not collected

    CalibrationPart(int prompt, Map<String, int[]> linears, int steps, boolean withHessians) {
        this.prompt = prompt;
        this.timesteps = new double[steps];
        Arrays.fill(timesteps, Double.NaN);
        this.layers = new LinkedHashMap<>();
        this.hessians = new LinkedHashMap<>();
        linears.forEach((name, shape) -> {
            layers.put(name, new LayerStats(name, shape[1], steps));
            if (withHessians) hessians.put(name, new LayerHessian(name, shape[1]));
        });
    }

    /** The index of the prompt in the run's prompt list. */
    public int prompt() { return prompt; }

    public boolean hasHessians() { return !hessians.isEmpty(); }

    double[] timesteps() { return timesteps; }

    Map<String, LayerStats> layers() { return Collections.unmodifiableMap(layers); }

    LayerHessian hessianOrNull(String name) { return hessians.get(name); }

    void recordTimestep(int step, double modelTime) {
        timesteps[step] = modelTime;
    }
}
