package dev.viditq.nn.vae;

import dev.viditq.nn.layers.Weights;

/**
 * diffusers ResnetBlock2D without time embedding: h = conv1(SiLU(norm1(x))), h = conv2(SiLU(norm2(h))),
 * out = shortcut(x) + h, where the shortcut is a 1x1 conv when the width changes, else identity.
 */
final class ResnetBlock2D {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d shortcut; // null: identity

    ResnetBlock2D(Weights w, String key, int in, int out, int groups) {
        norm1 = GroupNorm.load(w, key + ".norm1", in, groups);
        conv1 = Conv2d.load(w, key + ".conv1", in, out, 3);
        norm2 = GroupNorm.load(w, key + ".norm2", out, groups);
        conv2 = Conv2d.load(w, key + ".conv2", out, out, 3);
        shortcut = in != out ? Conv2d.load(w, key + ".conv_shortcut", in, out, 1) : null;
    }

    /** A new map; {@code x} is left to the caller. */
    FeatureMap forward(FeatureMap x) {
        FeatureMap h;
        try (FeatureMap a = norm1.applySilu(x)) {
            h = conv1.apply(a);
        }
        FeatureMap y;
        try (h) {
            norm2.applySiluInPlace(h);
            y = conv2.apply(h);
        }
        if (shortcut == null) {
            y.add(x);
        } else {
            try (FeatureMap s = shortcut.apply(x)) {
                y.add(s);
            }
        }
        return y;
    }
}
