package dev.viditq.quant.calib;

import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.sampling.Step;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs calibration: observers on every Linear of the float model, the driver's prompts through all sampling steps,
 * and the statistics saved after every prompt (atomically), so an interrupted run restarted with the same arguments
 * skips the prompts already done.
 */
public final class Calibrator {
    /** Hears the progress of a run (a progress bar). */
    public interface Progress {
        Progress NONE = new Progress() {};

        /** Called once before the first prompt; {@code alreadyDone} prompts come from an earlier run. */
        default void start(int prompts, int alreadyDone, int steps) {}

        default void step(int prompt, Step step) {}

        default void promptDone(int prompt) {}
    }

    private Calibrator() {}

    /** Calibrates {@code driver}'s model over its prompts into {@code out}; returns the complete statistics. */
    public static Calibration run(CalibrationDriver driver, Path out, Progress progress) {
        return run(driver, out, progress, false);
    }

    /** As {@link #run(CalibrationDriver, Path, Progress)}, also collecting every layer's input Hessian when {@code hessians}. */
    public static Calibration run(CalibrationDriver driver, Path out, Progress progress, boolean hessians) {
        Denoiser model = driver.model();
        Calibration wanted = Calibration.start(ModelIdentity.of(model), driver.settings(), driver.prompts(), hessians);
        Calibration cal = wanted;
        if (Files.exists(out)) {
            Calibration earlier = Calibration.read(out);
            earlier.checkResumableAs(wanted, out);
            cal = earlier.continuedAs(wanted);
        }
        progress.start(cal.prompts().size(), cal.done(), cal.steps());
        List<Linear> observed = new ArrayList<>(model.linears().values());
        List<Linear.Executor> previous = new ArrayList<>();
        for (Linear l : observed) {
            previous.add(l.executor());
            l.setExecutor(new ObservingExecutor(l.executor(), cal.layer(l.name()), cal.hessianOrNull(l.name())));
        }
        try {
            for (int i = cal.done(); i < cal.prompts().size(); i++) {
                final int prompt = i;
                final Calibration c = cal;
                driver.run(i, (step, latent) -> {
                    c.recordTimestep(step.index(), step.modelTime());
                    progress.step(prompt, step);
                });
                cal.markDone(i + 1);
                cal.write(out);
                progress.promptDone(i);
            }
        } finally {
            for (int i = 0; i < observed.size(); i++) observed.get(i).setExecutor(previous.get(i));
        }
        return cal;
    }
}
