package dev.viditq.nn.models.golden;

import dev.viditq.nn.models.ModelFamily;

/** Golden folder `pixart_diffusers`: diffusers `PixArtTransformer2DModel` with a caption mask. */
public final class PixArtDiffusersGoldenCase extends DenoiserGoldenCase {
    public PixArtDiffusersGoldenCase() {
        super("pixart_diffusers", ModelFamily.PIXART_DIFFUSERS);
    }
}
