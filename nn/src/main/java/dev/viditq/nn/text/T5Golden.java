package dev.viditq.nn.text;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.List;

/** Golden case {@code t5_encoder}: {@code out} = last_hidden_state of input_ids + attention_mask, all rows. */
public final class T5Golden implements GoldenCase {
    @Override
    public String folderName() {
        return "t5_encoder";
    }

    @Override
    public List<Comparison> run(Path caseDir) {
        try (T5Encoder encoder = T5Encoder.load(caseDir);
             Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            Tensor out = encoder.forward(io.get("input_ids"), io.get("attention_mask"));
            return List.of(new Comparison("out", GoldenCase.relErr(out.toFloatArray(), io.get("out").toFloatArray())));
        }
    }
}
