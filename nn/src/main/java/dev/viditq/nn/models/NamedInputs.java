package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The inputs of one forward call read from named tensors (a safetensors file as the golden {@code io.safetensors}
 * or one a user writes from PyTorch), under the names the official calls use. Every name may carry a prefix
 * (the golden DiT case stores its CFG call as {@code cfg_x}, {@code cfg_t}, {@code cfg_y}).
 * <pre>
 *   latent        x | hidden_states | sample                      [B, C, H, W] or [B, C, T, H, W]
 *   timesteps     t | timestep | timesteps                        [B] or [1]
 *   class labels  y (class-conditional models) | class_labels     [B] integers
 *   caption       y (text models) | encoder_hidden_states | caption   [B, L, Dt] or [B, 1, L, Dt]
 *   caption mask  mask | encoder_attention_mask | caption_mask    [B, L] or [B, 1, 1, L], 1 = keep
 *   micro-conds   img_hw | resolution ([B, 2] pixels),  aspect_ratio ([B, 1])
 *   Open-Sora 1.2 height, width ([B] pixels), fps ([B])
 *   image states  encoder_hidden_states_image | image_states     [B, N, Di] (image-to-video models)
 * </pre>
 */
public final class NamedInputs {
    public static final List<String> LATENT = List.of("x", "hidden_states", "sample");
    public static final List<String> TIMESTEPS = List.of("t", "timestep", "timesteps");
    public static final List<String> LABELS = List.of("y", "class_labels");
    public static final List<String> CAPTION = List.of("y", "encoder_hidden_states", "caption");
    public static final List<String> MASK = List.of("mask", "encoder_attention_mask", "caption_mask");
    public static final List<String> IMAGE_HW = List.of("img_hw", "resolution");
    public static final List<String> ASPECT_RATIO = List.of("aspect_ratio");
    public static final List<String> HEIGHT = List.of("height");
    public static final List<String> WIDTH = List.of("width");
    public static final List<String> FPS = List.of("fps");
    public static final List<String> IMAGE_STATES = List.of("encoder_hidden_states_image", "image_states");

    /** One forward call's arguments. */
    public record Call(Tensor x, Tensor timesteps, Conditioning cond) {}

    private NamedInputs() {}

    /** Reads the call for {@code info}'s family from {@code io}, names prefixed by {@code prefix} ("" for none). */
    public static Call read(TensorFile io, String prefix, ModelInfo info) {
        Tensor x = require(io, prefix, LATENT, "latent");
        Tensor t = require(io, prefix, TIMESTEPS, "timesteps");
        Conditioning cond;
        if (info.family().classConditional()) {
            cond = Conditioning.classLabels(require(io, prefix, LABELS, "class labels"));
        } else {
            cond = Conditioning.caption(require(io, prefix, CAPTION, "caption embeddings"), optional(io, prefix, MASK));
            if (info.family().videoConditions()) {
                cond = cond.withVideoConditions(heightWidth(require(io, prefix, HEIGHT, "height"), require(io, prefix, WIDTH, "width")),
                        require(io, prefix, FPS, "fps"));
            }
            if (info.microConditions()) {
                cond = cond.withMicroConditions(require(io, prefix, IMAGE_HW, "image size"),
                        require(io, prefix, ASPECT_RATIO, "aspect ratio"));
            }
            if (info.imageToVideo()) cond = cond.withImageStates(require(io, prefix, IMAGE_STATES, "image-encoder states"));
        }
        return new Call(x, t, cond);
    }

    /** [B] heights and [B] widths → [B, 2] (height, width). */
    static Tensor heightWidth(Tensor height, Tensor width) {
        if (height.numel() != width.numel()) throw new IllegalArgumentException("height " + height + " and width " + width + " differ in size");
        int n = Math.toIntExact(height.numel());
        float[] hw = new float[2 * n];
        for (int i = 0; i < n; i++) {
            hw[2 * i] = height.getFloat(i);
            hw[2 * i + 1] = width.getFloat(i);
        }
        return Tensor.of(hw, n, 2);
    }

    /** The one tensor among {@code names}; an error listing the accepted names when absent or ambiguous. */
    static Tensor require(TensorFile io, String prefix, List<String> names, String what) {
        Tensor t = optional(io, prefix, names);
        if (t == null) {
            throw new IllegalArgumentException(io.path() + ": no " + what + " tensor; expected one named "
                    + withPrefix(prefix, names));
        }
        return t;
    }

    static Tensor optional(TensorFile io, String prefix, List<String> names) {
        List<String> found = new ArrayList<>();
        for (String n : names) if (io.contains(prefix + n)) found.add(prefix + n);
        if (found.size() > 1) throw new IllegalArgumentException(io.path() + ": ambiguous inputs " + found + "; keep one");
        return found.isEmpty() ? null : io.get(found.getFirst());
    }

    private static List<String> withPrefix(String prefix, List<String> names) {
        return names.stream().map(n -> prefix + n).toList();
    }
}
