package dev.viditq.nn.models.wan;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the original Wan 2.1 repository's folder (Wan-AI/Wan2.1-T2V-1.3B, ...) keeps the parts other than the
 * transformer: the VAE as {@code Wan2.1_VAE.pth}, the umT5 encoder as {@code models_t5_umt5-xxl-enc-bf16.pth} (each
 * also accepted converted to .safetensors by {@code ./viditq convert}), the tokenizer in {@code google/umt5-xxl/}.
 */
public final class WanOriginalFolder {
    static final String VAE = "Wan2.1_VAE";
    static final String TEXT_ENCODER = "models_t5_umt5-xxl-enc-bf16";
    static final String TOKENIZER = "google/umt5-xxl";

    private WanOriginalFolder() {}

    /** The VAE checkpoint of {@code root}, or null. */
    public static Path vae(Path root) {
        return checkpoint(root, VAE);
    }

    /** The umT5 encoder checkpoint of {@code root}, or null. */
    public static Path textEncoder(Path root) {
        return checkpoint(root, TEXT_ENCODER);
    }

    /** The tokenizer folder of {@code root}, or null. */
    public static Path tokenizer(Path root) {
        Path dir = root.resolve(TOKENIZER);
        return Files.isDirectory(dir) ? dir : null;
    }

    private static Path checkpoint(Path root, String name) {
        for (String ext : new String[]{".pth", ".safetensors"}) {
            Path p = root.resolve(name + ext);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }
}
