package dev.viditq.bench.onnx;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.CheckpointAdapter;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelConfig;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.models.ModelLoader;

import java.nio.file.Path;

/**
 * What the exporter and the ONNX Runtime peer need to know of a model folder, read by building the model the way
 * {@link ModelLoader} does (so every config default and layout check is the same) but without finishing a quantized
 * one: its packed integer weights are never unpacked into memory just to read the config.
 *
 * @param nullCaption a copy of the learned null caption [L, Dt] (F32), or null
 */
record ModelFacts(ModelInfo info, Tensor nullCaption) {
    static ModelFacts read(Path modelDir) {
        if (!java.nio.file.Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException(modelDir + ": not a model folder (expected a directory with config.json and a checkpoint)");
        }
        ModelConfig cfg = ModelConfig.read(modelDir.resolve("config.json"));
        TensorFile file = Checkpoints.open(Checkpoints.findIn(modelDir));
        TensorFile view;
        try {
            CheckpointAdapter adapter = CheckpointAdapter.find(file);
            view = adapter == null ? file : adapter.open(file).modelView();
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        try (Denoiser model = ModelLoader.build(cfg, view)) { // owns the file from here on
            return new ModelFacts(model.info(), model.nullCaption().map(Tensor::toF32).orElse(null));
        }
    }
}
