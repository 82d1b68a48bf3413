package dev.viditq.core.io;

import dev.viditq.core.tensor.NonFinite;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Opens any checkpoint this project reads, choosing the reader by the file's first bytes, not its name:
 * a zip or a torch pickle is a PyTorch file ({@link PthFile}, see {@link #sniff}), anything else must be
 * safetensors ({@link Safetensors}). A directory is searched for its one checkpoint ({@link #findIn(Path)}).
 */
public final class Checkpoints {
    /** File names tried first in a directory, in this order (diffusers, then transformers layouts). */
    static final List<String> CANONICAL_NAMES = List.of(
            "diffusion_pytorch_model.safetensors", "model.safetensors",
            "diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
            "diffusion_pytorch_model.bin", "pytorch_model.bin");
    /** Otherwise, file name endings tried tier by tier: one match in a tier wins, several are ambiguous. */
    private static final List<List<String>> SUFFIX_TIERS = List.of(
            List.of(".index.json"), List.of(".safetensors"), List.of(".pth", ".pt", ".bin", ".ckpt"));

    private Checkpoints() {}

    /** The checkpoint at {@code path} (a file, or a directory holding one); the choice for .pth files is automatic. */
    public static TensorFile open(Path path) {
        return open(path, null);
    }

    /**
     * Like {@link #open(Path)}; {@code pthEntry} picks the state dict inside a PyTorch file
     * (see {@link PthFile#open(Path, String)}; null: automatic) and is refused for other formats.
     */
    public static TensorFile open(Path path, String pthEntry) {
        if (path == null) throw new IllegalArgumentException("no checkpoint path given");
        Path file = Files.isDirectory(path) ? findIn(path) : path;
        CheckpointFiles.requireReadableFile(file);
        if (file.getFileName().toString().endsWith(".index.json")) {
            refuseEntry(file, pthEntry);
            return ShardedCheckpoint.open(file, Checkpoints::open);
        }
        return switch (sniff(file)) {
            case PYTORCH -> PthFile.open(file, pthEntry);
            case SAFETENSORS -> {
                refuseEntry(file, pthEntry);
                yield Safetensors.open(file);
            }
        };
    }

    private static void refuseEntry(Path file, String pthEntry) {
        if (pthEntry != null) {
            throw new CheckpointException(file, "is not a PyTorch checkpoint, so there is no entry '" + pthEntry + "' to choose");
        }
    }

    enum Format { SAFETENSORS, PYTORCH }

    /**
     * The format by content. A zip ({@code PK\3\4}) or a legacy torch pickle ({@code \x80 proto} then the LONG1
     * magic number or a FRAME) is PyTorch; anything else is left to the safetensors reader. The patterns are chosen
     * so that no valid safetensors header length (little-endian, under 100 MB) can match them.
     */
    static Format sniff(Path file) {
        byte[] h = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(h, 0, h.length);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e.getMessage(), e);
        }
        if (n < 8) return Format.SAFETENSORS; // too short for either; the safetensors reader says so
        boolean zip = h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4 && (h[4] | h[5] | h[6] | h[7]) != 0;
        boolean proto = (h[0] & 0xFF) == 0x80 && h[1] >= 2 && h[1] <= 5;
        boolean legacyMagic = proto && (h[2] & 0xFF) == 0x8a && h[3] == 0x0a; // LONG1, 10 bytes
        // FRAME with a short first frame (13 bytes for torch's magic number): as a header length that is > 100 MB
        boolean framed = proto && h[1] >= 4 && (h[2] & 0xFF) == 0x95 && (h[3] & 0xFF) >= 7 && (h[4] | h[5] | h[6] | h[7]) == 0;
        return zip || legacyMagic || framed ? Format.PYTORCH : Format.SAFETENSORS;
    }

    /**
     * The one checkpoint file in {@code dir}: the first of {@link #CANONICAL_NAMES} present, otherwise the single
     * shard index (*.index.json), else the single *.safetensors, else the single .pth/.pt/.bin/.ckpt. Several
     * candidates of the same tier are ambiguous and refused, listing them.
     */
    public static Path findIn(Path dir) {
        for (String name : CANONICAL_NAMES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        List<Path> files = list(dir);
        for (List<String> suffixes : SUFFIX_TIERS) {
            List<Path> found = files.stream().filter(f -> endsWithAny(f, suffixes)).toList();
            if (found.size() == 1) return found.getFirst();
            if (found.size() > 1) {
                throw new CheckpointException(dir, "holds several checkpoints " + names(found)
                        + "; name the file to use");
            }
        }
        String hint = Files.isDirectory(dir.resolve("transformer"))
                ? " (a diffusers pipeline? point at its transformer/ folder)" : "";
        throw new CheckpointException(dir, "holds no checkpoint: looked for " + CANONICAL_NAMES
                + " and files ending in " + SUFFIX_TIERS.stream().flatMap(List::stream).toList() + hint);
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException(dir, "cannot list directory: " + e.getMessage(), e);
        }
    }

    private static boolean endsWithAny(Path f, List<String> suffixes) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".") && suffixes.stream().anyMatch(name::endsWith);
    }

    private static List<String> names(List<Path> files) {
        List<String> out = new ArrayList<>();
        for (Path f : files) out.add(f.getFileName().toString());
        return out;
    }

    /**
     * Throws naming the tensor when a float tensor of {@code file} holds a NaN or an infinity: weights like that
     * only ever produce a blank image, so they are refused at load (one pass over the mapped bytes, about as fast as
     * reading them; see {@link NonFinite}).
     */
    public static void requireFinite(TensorFile file) {
        for (String name : file.names()) requireFinite(file.path(), name, file.get(name));
    }

    /** Throws naming {@code name} of {@code file} when {@code t} holds a NaN or an infinity. */
    public static void requireFinite(Path file, String name, Tensor t) {
        long at = NonFinite.first(t);
        if (at >= 0) {
            throw CheckpointException.tensor(file, name, "holds " + t.getFloat(at) + " at element " + at + " (of "
                    + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + "): the weights are corrupt, re-export or"
                    + " re-download them");
        }
    }
}
