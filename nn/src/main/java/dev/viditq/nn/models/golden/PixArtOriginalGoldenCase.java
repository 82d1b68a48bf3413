package dev.viditq.nn.models.golden;

import dev.viditq.nn.models.ModelFamily;

/** Golden folder `pixart_original`: PixArt-alpha `PixArtMS` with micro-conditions and a caption mask. */
public final class PixArtOriginalGoldenCase extends DenoiserGoldenCase {
    public PixArtOriginalGoldenCase() {
        super("pixart_original", ModelFamily.PIXART);
    }
}
