package dev.viditq.nn.models.golden;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.WanTransformer;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.List;

/**
 * Golden folder {@code wan_transformer}: diffusers' WanTransformer3DModel (T2V),
 * {@code out = model(hidden_states, timestep, encoder_hidden_states).sample}. {@link I2v} is the I2V folder, which
 * also passes {@code encoder_hidden_states_image}. Sizes come from config.json and the tensors.
 */
public class WanTransformerGoldenCase implements GoldenCase {
    private final String folder;
    private final boolean imageToVideo;

    public WanTransformerGoldenCase() {
        this("wan_transformer", false);
    }

    private WanTransformerGoldenCase(String folder, boolean imageToVideo) {
        this.folder = folder;
        this.imageToVideo = imageToVideo;
    }

    /** Golden folder {@code wan_transformer_i2v}: the I2V layout with its image states. */
    public static final class I2v extends WanTransformerGoldenCase {
        public I2v() {
            super("wan_transformer_i2v", true);
        }
    }

    @Override
    public final String folderName() {
        return folder;
    }

    @Override
    public final List<Comparison> run(Path caseDir) {
        try (WanTransformer model = WanTransformer.load(caseDir); TensorFile io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            if (model.config().imageToVideo() != imageToVideo) {
                throw new IllegalStateException(caseDir + " holds a " + (imageToVideo ? "T2V" : "I2V") + " Wan transformer, expected "
                        + (imageToVideo ? "I2V" : "T2V"));
            }
            Tensor image = imageToVideo ? io.get("encoder_hidden_states_image") : null;
            Tensor out = model.forward(io.get("hidden_states"), io.get("timestep"), io.get("encoder_hidden_states"), image);
            return List.of(DenoiserGoldenCase.compare("out", out, io.get("out")));
        }
    }
}
