package dev.viditq.eval.sweep;

import dev.viditq.eval.shapes.Split;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code ./viditq sweep} is asked to measure.
 *
 * @param settings         float first, then presets / config files / plans ({@link SweepSetting#parse})
 * @param count            eval prompts per setting (null: the split's standard size)
 * @param seed             base seed of the eval batches (batch starting at prompt i: seed + i)
 * @param batch            prompts per forward pass
 * @param steps            sampling steps (null: the model's recipe); calibration uses the same
 * @param sampler          sampler name (null: the model's recipe); calibration uses the same
 * @param calibrationCount calibration prompts (null: the calibration split's standard size, 64 images / 16 videos)
 * @param sheet            samples on each contact sheet
 * @param out              the run directory; results are cached there and a re-run skips finished settings
 */
public record SweepRequest(Path model, List<SweepSetting> settings, Split split, Integer count, long seed, int batch,
                           Integer steps, String sampler, Integer calibrationCount, int sheet, Path out) {
    public SweepRequest {
        settings = List.copyOf(settings);
        if (settings.isEmpty() || !settings.getFirst().isFloat()) throw new IllegalArgumentException("the float setting must come first");
        if (split == Split.TRAIN) throw new IllegalArgumentException("sweep on a fixed split (calib or eval), not train");
        if (count != null && count < 1) throw new IllegalArgumentException("--count must be positive, got " + count);
        if (batch < 1) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        if (steps != null && steps < 1) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (calibrationCount != null && calibrationCount < 1) {
            throw new IllegalArgumentException("--calibration-count must be positive, got " + calibrationCount);
        }
        if (sheet < 1) throw new IllegalArgumentException("--sheet must be positive, got " + sheet);
    }
}
