package dev.viditq.cli;

import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.CalibrationDriver;
import dev.viditq.quant.calib.CalibrationPart;
import dev.viditq.quant.calib.Calibrator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code calibrate --spark}: every prompt is a task that records its part ({@link Calibrator#record}) on a worker; the
 * driver folds the parts in prompt order ({@link Calibration#append}), exactly what the single-process loop does, and
 * writes the file after every wave of prompts, so a rerun resumes after the last wave written.
 */
final class DistributedCalibration {
    /** Waves of this many prompts per slot: parts wait on the driver until every earlier prompt's part arrived. */
    private static final int PROMPTS_PER_SLOT = 2;

    private DistributedCalibration() {}

    static Calibration run(CalibrationDriver driver, CalibrateCommand cmd, String[] args) {
        Calibration cal = Calibrator.begin(driver, cmd.out, cmd.hessians);
        int n = cal.prompts().size();
        if (cal.done() > 0) System.err.println("calibration resumed after " + cal.done() + " of " + n + " prompts");
        try (Cluster cluster = Cluster.open(cmd.spark)) {
            int wave = Math.max(1, cluster.slots() * PROMPTS_PER_SLOT);
            for (int[] r : Cluster.ranges(cal.done(), n, wave)) {
                List<Task> tasks = new ArrayList<>();
                for (int i = r[0]; i < r[1]; i++) tasks.add(new Task(args, i));
                CalibrationPart[] parts = new CalibrationPart[tasks.size()];
                cluster.run("calibrate prompts " + r[0] + ".." + (r[1] - 1), tasks, (i, part) -> parts[i] = part);
                for (CalibrationPart p : parts) cal.append(p);
                cal.write(cmd.out);
                System.err.printf("calibrate: %d/%d prompts%n", cal.done(), n);
            }
        }
        return cal;
    }

    /** Records one prompt on a worker, with the model the command line names (kept there for the next prompt). */
    record Task(String[] args, int prompt) implements Cluster.Task<CalibrationPart> {
        @Override
        public CalibrationPart run() {
            CalibrateCommand c = Distributed.reparse(args, CalibrateCommand.class);
            return WorkerPool.with(Distributed.key("calibrate", args), () -> {
                try {
                    return c.openDriver();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, d -> Calibrator.record(d.driver(), prompt, c.hessians, Calibrator.Progress.NONE));
        }
    }
}
