package dev.viditq.nn.models.golden;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.CfgConvention;
import dev.viditq.nn.models.Guidance;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.models.NamedInputs;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A golden folder of a diffusion transformer: the model from config.json + model.safetensors (family detected by
 * {@link ModelLoader}), the inputs and expected outputs from io.safetensors:
 * <ul>
 *   <li>{@code out}: {@code model(x, t, ...)} with the inputs named as in {@link NamedInputs};</li>
 *   <li>{@code cfg_out} (when present): the official {@code forward_with_cfg(cfg_x, cfg_t, cfg_y..., cfg_scale)},
 *       guidance on channels 0..2 ({@link Guidance}).</li>
 * </ul>
 * Nothing about sizes is known here: every shape comes from the files. The folder's model must be of the
 * family and layout its name implies, so a mixed-up folder fails loudly rather than passing by accident.
 */
public abstract class DenoiserGoldenCase implements GoldenCase {
    private final String folder;
    private final ModelFamily family;

    protected DenoiserGoldenCase(String folder, ModelFamily family) {
        this.folder = folder;
        this.family = family;
    }

    @Override
    public String folderName() {
        return folder;
    }

    @Override
    public List<Comparison> run(Path caseDir) {
        try (Denoiser model = ModelLoader.load(caseDir); TensorFile io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            if (model.info().family() != family) {
                throw new IllegalStateException(caseDir + " holds a " + model.info().family().description()
                        + " model, expected " + family.description());
            }
            List<Comparison> out = new ArrayList<>();
            if (io.contains("out")) {
                NamedInputs.Call call = NamedInputs.read(io, "", model.info());
                out.add(compare("out", model.forward(call.x(), call.timesteps(), call.cond()), io.get("out")));
            }
            if (io.contains("cfg_out")) {
                NamedInputs.Call call = NamedInputs.read(io, "cfg_", model.info());
                double scale = io.get("cfg_scale").getFloat(0);
                Tensor guided = Guidance.forwardWithCfg(model, call.x(), call.timesteps(), call.cond(), scale,
                        CfgConvention.OFFICIAL_GUIDED_CHANNELS);
                out.add(compare("cfg_out", guided, io.get("cfg_out")));
            }
            return out;
        }
    }

    static Comparison compare(String name, Tensor ours, Tensor ref) {
        if (!Arrays.equals(ours.shape(), ref.shape())) {
            throw new IllegalStateException(name + ": output shape " + Arrays.toString(ours.shape()) + ", reference "
                    + Arrays.toString(ref.shape()));
        }
        return new Comparison(name, GoldenCase.relErr(ours.toFloatArray(), ref.toFloatArray()));
    }
}
