package dev.viditq.nn.pipeline;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.text.Captions;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Precomputed caption embeddings in a safetensors file, for running text models without a text encoder:
 * {@code caption} [B, L, D] (or [L, D]) and optional {@code mask} [B, L] (1 = real token), optional
 * {@code negative_caption} [1 or B, L', D] with {@code negative_mask}. Other tensors are ignored.
 *
 * @param negative null when the file has no negative_caption
 */
public record CaptionFile(Captions captions, Captions negative) {

    public static CaptionFile read(Path file) {
        try (Safetensors st = Safetensors.open(file)) {
            if (!st.contains("caption")) {
                throw new CheckpointException(file, "has no tensor 'caption' (caption embeddings [B, L, D])");
            }
            Captions captions = captions(file, st, "caption", "mask");
            Captions negative = st.contains("negative_caption") ? captions(file, st, "negative_caption", "negative_mask") : null;
            return new CaptionFile(captions, negative);
        }
    }

    /** Copies out of the mapping (the file is closed afterwards). */
    private static Captions captions(Path file, Safetensors st, String key, String maskKey) {
        Tensor e = st.get(key);
        if (e.rank() == 2) e = e.reshape(1, e.dim(0), e.dim(1));
        if (e.rank() != 3 || !e.dtype().isFloating()) {
            throw new CheckpointException(file, "tensor '" + key + "' must be floating point [B, L, D] or [L, D], is " + e);
        }
        Tensor mask = null;
        if (st.contains(maskKey)) {
            mask = st.get(maskKey);
            if (mask.numel() != e.dim(0) * e.dim(1)) {
                throw new CheckpointException(file, "tensor '" + maskKey + "' " + mask + " does not match '" + key + "' " + e);
            }
            mask = mask.to(DType.F32).reshape(e.dim(0), e.dim(1));
        }
        return new Captions(e.to(DType.F32), mask);
    }

    /** Writes captions (and optional negatives) in the layout {@link #read} takes, atomically. */
    public static void write(Path file, Captions captions, Captions negative) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("caption", captions.embeddings());
        if (captions.mask() != null) out.put("mask", captions.mask());
        if (negative != null) {
            out.put("negative_caption", negative.embeddings());
            if (negative.mask() != null) out.put("negative_mask", negative.mask());
        }
        SafetensorsWriter.write(file, out);
    }

    /** Row {@code b} of the captions (and of the negatives when they have a row per sample). */
    public CaptionFile row(int b) {
        return new CaptionFile(rowOf(captions, b), negative == null ? null : negative.batch() == 1 ? negative : rowOf(negative, b));
    }

    private static Captions rowOf(Captions c, int b) {
        if (b < 0 || b >= c.batch()) throw new IllegalArgumentException("row " + b + " of " + c.batch() + " captions");
        return c.rows(b, b + 1);
    }
}
