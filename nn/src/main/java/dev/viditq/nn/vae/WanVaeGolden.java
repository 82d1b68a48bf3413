package dev.viditq.nn.vae;

import dev.viditq.core.io.Safetensors;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.List;

/**
 * Golden case {@code wan_vae}: diffusers' AutoencoderKLWan, {@code decoded} = decode(z).sample, {@code decoded_pipeline}
 * = decode(z·std + mean) as WanPipeline ends, {@code encoded_mean} = encode(x).latent_dist.mean.
 */
public final class WanVaeGolden implements GoldenCase {
    @Override
    public String folderName() {
        return "wan_vae";
    }

    @Override
    public List<Comparison> run(Path caseDir) {
        try (WanVae vae = WanVae.load(caseDir); Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            return List.of(
                    compare("decoded", vae.decode(io.get("z")).toFloatArray(), io),
                    compare("decoded_pipeline", vae.decodeScaled(io.get("z")).toFloatArray(), io),
                    compare("encoded_mean", vae.encodeMean(io.get("x")).toFloatArray(), io));
        }
    }

    private static Comparison compare(String name, float[] ours, Safetensors io) {
        return new Comparison(name, GoldenCase.relErr(ours, io.get(name).toFloatArray()));
    }
}
