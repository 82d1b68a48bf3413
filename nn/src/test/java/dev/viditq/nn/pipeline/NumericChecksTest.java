package dev.viditq.nn.pipeline;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.FiniteLatents;
import dev.viditq.nn.sampling.StepListener;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A NaN weight is refused at load; a latent that stops being finite stops sampling at that step, naming it. */
class NumericChecksTest {
    @BeforeAll
    static void needGolden() {
        TinyModels.requireCases();
    }

    @Test
    void aNaNWeightIsRefusedAtLoadNamingTheTensor(@TempDir Path tmp) throws Exception {
        Path dir = TinyModels.flat(tmp, "dit");
        Path file = dir.resolve("model.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (Safetensors in = Safetensors.open(file)) {
            for (String n : in.names()) { // copies: the mapping goes when the file closes
                Tensor t = in.get(n), copy = Tensor.zeros(t.dtype(), t.shape());
                copy.data().copyFrom(t.data());
                tensors.put(n, copy);
            }
        }
        tensors.get("blocks.0.attn.proj.weight").setFloat(5, Float.NaN);
        Files.delete(file);
        SafetensorsWriter.write(file, tensors);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("tensor 'blocks.0.attn.proj.weight' holds NaN at element 5"), e.getMessage());
    }

    @Test
    void anInfiniteLatentStopsSamplingAtItsStep(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp, "dit"))) {
            FiniteLatents.NonFiniteException e = assertThrows(FiniteLatents.NonFiniteException.class, () -> p.generate(
                    GenerationRequest.builder().classLabels(2).steps(3).sampler("ddim").cfgScale(1e38).build(), StepListener.NONE));
            assertTrue(e.getMessage().startsWith("the latent after sampling step 1 of 3 holds"), e.getMessage());
            assertTrue(e.getMessage().contains("no image is written"), e.getMessage());
        }
    }
}
