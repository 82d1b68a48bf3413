package dev.viditq.nn.text;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.List;

/**
 * Golden case {@code t5_encoder}: {@code out} = last_hidden_state of input_ids + attention_mask, all rows.
 * {@link Umt5Golden} runs the umT5 folder through the same code.
 */
public class T5Golden implements GoldenCase {
    private final String folder;
    private final boolean biasPerLayer;

    public T5Golden() {
        this("t5_encoder", false);
    }

    /** @param biasPerLayer whether the folder's config must describe umT5 (a bias table in every block) */
    protected T5Golden(String folder, boolean biasPerLayer) {
        this.folder = folder;
        this.biasPerLayer = biasPerLayer;
    }

    @Override
    public final String folderName() {
        return folder;
    }

    @Override
    public final List<Comparison> run(Path caseDir) {
        try (T5Encoder encoder = T5Encoder.load(caseDir);
             Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            if (encoder.config().biasPerLayer() != biasPerLayer) {
                throw new IllegalStateException(caseDir + " holds a " + (biasPerLayer ? "T5" : "umT5")
                        + " encoder, expected " + (biasPerLayer ? "umT5 (model_type \"umt5\")" : "T5"));
            }
            Tensor out = encoder.forward(io.get("input_ids"), io.get("attention_mask"));
            return List.of(new Comparison("out", GoldenCase.relErr(out.toFloatArray(), io.get("out").toFloatArray())));
        }
    }
}
