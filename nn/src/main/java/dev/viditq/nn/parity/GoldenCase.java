package dev.viditq.nn.parity;

import java.nio.file.Path;
import java.util.List;

/**
 * One kind of golden case folder (../shared/golden/NAME): builds the model from the folder's config.json and
 * model.safetensors, runs it on io.safetensors and returns one comparison per expected output.
 * Implementations must take every size, depth, head count and shape from the folder, never from constants.
 */
public interface GoldenCase {
    /** The folder name this handler understands (dit, pixart_diffusers, ...; a nested case: schedulers/rflow). */
    String folderName();

    /** Relative L2 tolerance of this case's outputs (1e-4 networks, 1e-5 sampler trajectories). */
    default double tolerance() {
        return 1e-4;
    }

    List<Comparison> run(Path caseDir) throws Exception;

    /** One output of one case: its name in io.safetensors and ||ours - ref|| / ||ref||. */
    record Comparison(String output, double relErr) {}

    /** ||a - b|| / ||b|| in double. */
    static double relErr(float[] ours, float[] ref) {
        if (ours.length != ref.length) {
            throw new IllegalArgumentException("output has " + ours.length + " values, reference " + ref.length);
        }
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) ours[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
