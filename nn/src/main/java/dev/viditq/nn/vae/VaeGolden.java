package dev.viditq.nn.vae;

import dev.viditq.core.io.Safetensors;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.List;

/** Golden case {@code vae}: {@code decoded} = decode(z).sample and {@code encoded_mean} = encode(x).latent_dist.mean. */
public final class VaeGolden implements GoldenCase {
    @Override
    public String folderName() {
        return "vae";
    }

    @Override
    public List<Comparison> run(Path caseDir) {
        try (AutoencoderKL vae = AutoencoderKL.load(caseDir);
             Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            float[] decoded = vae.decode(io.get("z")).toFloatArray();
            float[] mean = vae.encodeMean(io.get("x")).toFloatArray();
            return List.of(
                    new Comparison("decoded", GoldenCase.relErr(decoded, io.get("decoded").toFloatArray())),
                    new Comparison("encoded_mean", GoldenCase.relErr(mean, io.get("encoded_mean").toFloatArray())));
        }
    }
}
