package dev.viditq.nn.models;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds a {@link Denoiser} from a model folder: {@code config.json} plus one checkpoint (diffusion_pytorch_model /
 * model .safetensors, a shard index, or a .pth; see {@link Checkpoints#findIn}).
 *
 * <p>The family is recognised by {@link ModelFamily#detect} from the checkpoint's keys (each layout has keys no
 * other has) and, when the config names one, from the config; the two must agree. Every missing, unexpected or
 * mis-shaped key is reported in one error.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /** {@code modelDir}/config.json and the one checkpoint in {@code modelDir}. */
    public static Denoiser load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException(modelDir + ": not a model folder (expected a directory with config.json and a checkpoint)");
        }
        if (!Files.exists(modelDir.resolve("config.json")) && Files.isDirectory(modelDir.resolve("transformer"))) {
            throw new IllegalArgumentException(modelDir + ": has no config.json (a diffusers pipeline? point at its transformer/ folder)");
        }
        return load(modelDir.resolve("config.json"), Checkpoints.findIn(modelDir));
    }

    /** A config file and a checkpoint file given separately. */
    public static Denoiser load(Path configFile, Path checkpoint) {
        ModelConfig cfg = ModelConfig.read(configFile);
        ConfigLimits.check(cfg); // absurd sizes end here, before anything is built
        TensorFile file = Checkpoints.open(checkpoint);
        try {
            // a quantized checkpoint (quant module) loads through here too; see CheckpointAdapter
            CheckpointAdapter adapter = CheckpointAdapter.find(file);
            if (adapter == null) {
                Checkpoints.requireFinite(file); // a quantized checkpoint is checked while its seal is verified
                return build(cfg, file);
            }
            CheckpointAdapter.Loading loading = adapter.open(file);
            Denoiser model = build(cfg, loading.modelView());
            loading.install(model); // on failure the catch below releases the file the model holds
            return model;
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Builds the model from an open checkpoint, which the model then owns (closed by {@link Denoiser#close()}). */
    public static Denoiser build(ModelConfig cfg, TensorFile file) {
        ModelFamily family = ModelFamily.detect(cfg, file.names());
        return switch (family) {
            case DIT -> DiT.load(cfg, file);
            case PIXART -> PixArt.load(cfg, file);
            case PIXART_DIFFUSERS -> PixArtDiffusers.load(cfg, file);
            case STDIT -> STDiT.load(cfg, file);
            case STDIT3 -> STDiT3.load(cfg, file);
            case LATTE_DIFFUSERS -> Latte.load(cfg, file);
            case WAN, WAN_ORIGINAL -> WanTransformer.load(cfg, file);
        };
    }
}
