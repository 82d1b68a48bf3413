package dev.viditq.nn.models.golden;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.models.NamedInputs;
import dev.viditq.nn.models.STDiT3;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Golden folder `stdit3`: Open-Sora v1.2 `STDiT3` on video with fps/size conditioning and a caption mask
 * ({@code out}), and the same call with the frame mask {@code x_mask} ({@code out_x_mask}) when present.
 */
public final class Stdit3GoldenCase extends DenoiserGoldenCase {
    public Stdit3GoldenCase() {
        super("stdit3", ModelFamily.STDIT3);
    }

    @Override
    public List<Comparison> run(Path caseDir) {
        List<Comparison> out = new ArrayList<>(super.run(caseDir));
        try (TensorFile io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            if (!io.contains("out_x_mask")) return out;
            try (STDiT3 model = (STDiT3) ModelLoader.load(caseDir)) {
                NamedInputs.Call call = NamedInputs.read(io, "", model.info());
                out.add(compare("out_x_mask", model.forward(call.x(), call.timesteps(), call.cond(), io.get("x_mask")),
                        io.get("out_x_mask")));
            }
        }
        return out;
    }
}
