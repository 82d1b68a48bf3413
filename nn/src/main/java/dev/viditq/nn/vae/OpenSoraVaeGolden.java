package dev.viditq.nn.vae;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Golden case {@code opensora_vae}: Open-Sora 1.2's VideoAutoencoderPipeline, {@code decoded} = decode(z, num_frames)
 * and {@code encoded} = encode(x) at the posterior means (each compared when present).
 */
public final class OpenSoraVaeGolden implements GoldenCase {
    @Override
    public String folderName() {
        return "opensora_vae";
    }

    @Override
    public List<Comparison> run(Path caseDir) {
        try (OpenSoraVae vae = OpenSoraVae.load(caseDir); Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            List<Comparison> out = new ArrayList<>();
            if (io.contains("decoded")) {
                int frames = Math.toIntExact(io.get("num_frames").getLong(0));
                out.add(compare("decoded", vae.decode(io.get("z"), frames), io.get("decoded")));
            }
            if (io.contains("encoded")) out.add(compare("encoded", vae.encode(io.get("x")), io.get("encoded")));
            return out;
        }
    }

    private static Comparison compare(String name, Tensor ours, Tensor ref) {
        if (!Arrays.equals(ours.shape(), ref.shape())) {
            throw new IllegalStateException(name + ": shape " + Arrays.toString(ours.shape()) + ", reference " + Arrays.toString(ref.shape()));
        }
        return new Comparison(name, GoldenCase.relErr(ours.toFloatArray(), ref.toFloatArray()));
    }
}
