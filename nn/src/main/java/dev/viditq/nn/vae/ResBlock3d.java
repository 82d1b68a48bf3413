package dev.viditq.nn.vae;

import dev.viditq.nn.layers.Weights;

/**
 * The temporal VAE's {@code ResBlock}: h = conv1(SiLU(norm1(x))), h = conv2(SiLU(norm2(h))), out = h + shortcut(x),
 * the convs causal 3×3×3 without bias, the shortcut a 1×1×1 conv ({@code conv3}, no bias) when the width changes.
 */
final class ResBlock3d {
    private final GroupNorm norm1;
    private final CausalConv3d conv1;
    private final GroupNorm norm2;
    private final CausalConv3d conv2;
    private final CausalConv3d shortcut; // null: identity

    ResBlock3d(Weights w, String key, int in, int out, int groups, float eps) {
        norm1 = GroupNorm.load(w, key + ".norm1", in, groups, eps);
        conv1 = CausalConv3d.load(w, key + ".conv1", in, out, 3, 1, false);
        norm2 = GroupNorm.load(w, key + ".norm2", out, groups, eps);
        conv2 = CausalConv3d.load(w, key + ".conv2", out, out, 3, 1, false);
        shortcut = in != out ? CausalConv3d.load(w, key + ".conv3", in, out, 1, 1, false) : null;
    }

    /** A new map; {@code x} is left to the caller. */
    VideoMap forward(VideoMap x) {
        VideoMap h;
        try (VideoMap a = VideoMap.of(norm1.applySilu(x.planes), x.frames)) {
            h = conv1.apply(a);
        }
        VideoMap y;
        try (h) {
            norm2.applySiluInPlace(h.planes);
            y = conv2.apply(h);
        }
        if (shortcut == null) {
            y.planes.add(x.planes);
        } else {
            try (VideoMap s = shortcut.apply(x)) {
                y.planes.add(s.planes);
            }
        }
        return y;
    }
}
