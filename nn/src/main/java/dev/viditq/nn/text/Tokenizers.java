package dev.viditq.nn.text;

import dev.viditq.core.io.CheckpointException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a tokenizer by what its file is: Hugging Face {@code tokenizer.json} or SentencePiece {@code spiece.model}. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * The tokenizer in {@code path}: a {@code tokenizer.json} or {@code spiece.model} file, or a directory holding
     * one (tokenizer.json preferred; a diffusers pipeline's {@code tokenizer/} subfolder is looked into).
     */
    public static Tokenizer load(Path path) {
        if (!Files.exists(path)) throw new CheckpointException(path, "no such tokenizer file or directory");
        if (Files.isDirectory(path)) {
            for (Path dir : new Path[]{path, path.resolve("tokenizer")}) {
                if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return HfTokenizer.load(dir.resolve("tokenizer.json"));
                if (Files.isRegularFile(dir.resolve("spiece.model"))) return SentencePieceTokenizer.load(dir.resolve("spiece.model"));
            }
            throw new CheckpointException(path, "holds no tokenizer.json or spiece.model (nor does its tokenizer/ folder)");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".json")) return HfTokenizer.load(path);
        if (name.endsWith(".model")) return SentencePieceTokenizer.load(path);
        throw new CheckpointException(path, "is neither a tokenizer.json nor a SentencePiece .model file");
    }
}
