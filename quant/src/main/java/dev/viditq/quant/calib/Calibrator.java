package dev.viditq.quant.calib;

import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.sampling.Step;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
        Calibration cal = begin(driver, out, hessians);
        progress.start(cal.prompts().size(), cal.done(), cal.steps());
        for (int i = cal.done(); i < cal.prompts().size(); i++) {
            cal.append(record(driver, i, hessians, progress));
            cal.write(out);
            progress.promptDone(i);
        }
        return cal;
    }

    /**
     * The statistics of a run over {@code driver}'s prompts into {@code out}: empty, or what an earlier run with the same
     * model, settings and prompts left there (refused naming the difference otherwise).
     */
    public static Calibration begin(CalibrationDriver driver, Path out, boolean hessians) {
        Calibration wanted = Calibration.start(ModelIdentity.of(driver.model()), driver.settings(), driver.prompts(), hessians);
        if (!Files.exists(out)) return wanted;
        Calibration earlier = Calibration.read(out);
        earlier.checkResumableAs(wanted, out);
        return earlier.continuedAs(wanted);
    }

    /**
     * Runs prompt {@code index} alone with observers on every Linear and returns what it contributes; the model's
     * executors are restored afterwards. Each call needs the model to itself (the observers are installed on it).
     */
    public static CalibrationPart record(CalibrationDriver driver, int index, boolean hessians, Progress progress) {
        Denoiser model = driver.model();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (Linear l : model.linears().values()) shapes.put(l.name(), new int[]{l.outFeatures(), l.inFeatures()});
        CalibrationPart part = new CalibrationPart(index, shapes, driver.settings().steps(), hessians);
        List<Linear> observed = new ArrayList<>(model.linears().values());
        List<Linear.Executor> previous = new ArrayList<>();
        try {
            for (Linear l : observed) {
                previous.add(l.executor());
                l.setExecutor(new ObservingExecutor(l.executor(), part.layers().get(l.name()), part.hessianOrNull(l.name())));
            }
            driver.run(index, (step, latent) -> {
                part.recordTimestep(step.index(), step.modelTime());
                progress.step(index, step);
            });
        } finally {
            for (int i = 0; i < previous.size(); i++) observed.get(i).setExecutor(previous.get(i));
        }
        return part;
    }
}
