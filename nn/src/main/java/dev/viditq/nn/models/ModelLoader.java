package dev.viditq.nn.models;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Builds a {@link Denoiser} from a model folder: {@code config.json} plus one checkpoint (diffusion_pytorch_model /
 * model .safetensors, a shard index, or a .pth; see {@link Checkpoints#findIn}).
 *
 * <p>The family is recognised from the checkpoint's keys (each layout has keys no other has) and, when the config
 * names one ({@code _class_name} as diffusers saves it, {@code model_type} "STDiT3" as Open-Sora 1.2's
 * PretrainedConfig saves it, or {@code family} in the original-layout configs of this project), the two must agree. Every missing, unexpected or mis-shaped key is reported in one error.
 */
public final class ModelLoader {
    /** The supported families and layouts. */
    public enum Family {
        DIT("dit, original layout (facebookresearch/DiT)"),
        PIXART("pixart, original layout (PixArt-alpha / PixArt-sigma)"),
        PIXART_DIFFUSERS("pixart, diffusers layout (PixArtTransformer2DModel)"),
        STDIT("stdit, Open-Sora v1.0 STDiT"),
        STDIT3("stdit3, Open-Sora v1.2 STDiT3"),
        LATTE_DIFFUSERS("latte, diffusers layout (LatteTransformer3DModel)");

        private final String description;

        Family(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

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
            Denoiser model = build(cfg, adapter.modelView(file));
            adapter.install(model, file); // on failure the catch below releases the file the model holds
            return model;
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Builds the model from an open checkpoint, which the model then owns (closed by {@link Denoiser#close()}). */
    public static Denoiser build(ModelConfig cfg, TensorFile file) {
        return switch (detect(cfg, file.names())) {
            case DIT -> DiT.load(cfg, file);
            case PIXART -> PixArt.load(cfg, file);
            case PIXART_DIFFUSERS -> PixArtDiffusers.load(cfg, file);
            case STDIT -> STDiT.load(cfg, file);
            case STDIT3 -> STDiT3.load(cfg, file);
            case LATTE_DIFFUSERS -> Latte.load(cfg, file);
        };
    }

    /** The family from the checkpoint keys, checked against the config's own statement when it makes one. */
    public static Family detect(ModelConfig cfg, Set<String> keys) {
        Family byKeys = byKeys(keys);
        Family byConfig = byConfig(cfg);
        if (byKeys != null && byConfig != null && byKeys != byConfig) {
            throw cfg.error("describes a " + byConfig.description() + " model, but the checkpoint's keys are those of a "
                    + byKeys.description() + " model");
        }
        if (byKeys != null) return byKeys;
        if (byConfig != null) return byConfig;
        throw cfg.error("cannot tell the model family: neither the config (\"_class_name\" or \"family\") nor the "
                + "checkpoint keys match DiT, PixArt, Open-Sora STDiT or Latte");
    }

    static Family byKeys(Set<String> keys) {
        if (keys.contains("temporal_transformer_blocks.0.attn1.to_q.weight")) return Family.LATTE_DIFFUSERS;
        if (keys.contains("adaln_single.linear.weight")) return Family.PIXART_DIFFUSERS;
        if (keys.contains("spatial_blocks.0.attn.qkv.weight")) return Family.STDIT3;
        if (keys.contains("blocks.0.attn_temp.qkv.weight")) return Family.STDIT;
        if (keys.contains("y_embedder.embedding_table.weight")) return Family.DIT;
        if (keys.contains("y_embedder.y_proj.fc1.weight") && keys.contains("t_block.1.weight")) return Family.PIXART;
        return null;
    }

    static Family byConfig(ModelConfig cfg) {
        if (cfg.has("_class_name")) {
            String cls = cfg.getString("_class_name", "");
            return switch (cls) {
                case "PixArtTransformer2DModel" -> Family.PIXART_DIFFUSERS;
                case "LatteTransformer3DModel" -> Family.LATTE_DIFFUSERS;
                // PixArt's first diffusers releases saved the generic class with adaLN-single norms
                case "Transformer2DModel" -> {
                    if (cfg.getString("norm_type", "").equals("ada_norm_single")) yield Family.PIXART_DIFFUSERS;
                    throw cfg.error("Transformer2DModel with norm_type \"" + cfg.getString("norm_type", "layer_norm")
                            + "\" is not supported (only PixArt's \"ada_norm_single\")");
                }
                default -> throw cfg.error("_class_name \"" + cls + "\" is not supported; supported: "
                        + "PixArtTransformer2DModel, LatteTransformer3DModel, or the original DiT / PixArt / STDiT layouts");
            };
        }
        // Open-Sora 1.2 saves a transformers PretrainedConfig
        if (cfg.getString("model_type", "").equals("STDiT3")) return Family.STDIT3;
        if (cfg.has("family")) {
            String family = cfg.getString("family", "").toLowerCase(Locale.ROOT);
            return switch (family) {
                case "dit" -> Family.DIT;
                case "pixart", "pixart-alpha", "pixart-sigma" -> Family.PIXART;
                case "stdit", "stdit1" -> Family.STDIT;
                case "stdit3" -> Family.STDIT3;
                default -> throw cfg.error("\"family\": \"" + family + "\" is not supported (dit, pixart, stdit, stdit3)");
            };
        }
        return null;
    }
}
