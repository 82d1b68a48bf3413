package dev.viditq.nn.pipeline;

import dev.viditq.nn.models.ModelFamily;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the parts of a model live (docs/MODEL_FORMAT.md). Two layouts are accepted:
 * <ul>
 *   <li>a diffusers pipeline folder: {@code transformer/} (config.json + checkpoint), {@code vae/},
 *       {@code text_encoder/} + {@code tokenizer/}, {@code scheduler/scheduler_config.json};</li>
 *   <li>a flat folder: the denoiser's config.json + checkpoint at the top, with the same optional subfolders
 *       ({@code vae/}, {@code text_encoder/}, {@code tokenizer/} or a top-level tokenizer.json, {@code scheduler/}).</li>
 * </ul>
 * Where these rules find no VAE, text encoder or tokenizer, a family's own names for them are looked for
 * ({@link ModelFamily#ownPartsIn}): the VAE and text encoder may then be checkpoint files rather than folders.
 *
 * @param denoiser        folder holding the denoiser's config.json and checkpoint
 * @param vae             the AutoencoderKL folder, or null (pixel-space models)
 * @param textEncoder     the T5 folder, or null (class-conditional models, or captions given as embeddings)
 * @param tokenizer       tokenizer.json / spiece.model or a folder holding one, or null
 * @param schedulerConfig diffusers scheduler_config.json, or null
 */
public record ModelFolder(Path root, Path denoiser, Path vae, Path textEncoder, Path tokenizer, Path schedulerConfig) {

    public static ModelFolder resolve(Path root) {
        if (!Files.exists(root)) throw new IllegalArgumentException(root + ": no such model folder");
        if (!Files.isDirectory(root)) throw new IllegalArgumentException(root + ": not a folder (a model is a folder; see docs/MODEL_FORMAT.md)");
        Path denoiser = hasConfig(root.resolve("transformer")) ? root.resolve("transformer") : root;
        if (!hasConfig(denoiser)) {
            throw new IllegalArgumentException(root + ": no config.json, neither at the top nor in transformer/ "
                    + "(see docs/MODEL_FORMAT.md for the accepted layouts)");
        }
        Path vae = hasConfig(root.resolve("vae")) ? root.resolve("vae") : null;
        Path text = hasConfig(root.resolve("text_encoder")) ? root.resolve("text_encoder") : null;
        Path tokenizer = firstExisting(root.resolve("tokenizer"), root.resolve("tokenizer.json"), root.resolve("spiece.model"),
                text == null ? null : text.resolve("tokenizer.json"), text == null ? null : text.resolve("spiece.model"));
        Path scheduler = root.resolve("scheduler").resolve("scheduler_config.json");
        // parts a layout keeps under names of its own (the original Wan repository's Wan2.1_VAE.pth, ...) fill the gaps
        ModelFamily.OwnParts own = ModelFamily.ownPartsIn(root);
        return new ModelFolder(root, denoiser, vae != null ? vae : own.vae(), text != null ? text : own.textEncoder(),
                tokenizer != null ? tokenizer : own.tokenizer(), Files.isRegularFile(scheduler) ? scheduler : null);
    }

    private static boolean hasConfig(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json"));
    }

    private static Path firstExisting(Path... candidates) {
        for (Path p : candidates) if (p != null && Files.exists(p)) return p;
        return null;
    }
}
