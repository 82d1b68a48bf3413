package dev.viditq.nn.models.golden;

import dev.viditq.nn.models.ModelFamily;

/** Golden folder `latte_diffusers`: diffusers `LatteTransformer3DModel` on video, no caption mask. */
public final class LatteDiffusersGoldenCase extends DenoiserGoldenCase {
    public LatteDiffusersGoldenCase() {
        super("latte_diffusers", ModelFamily.LATTE_DIFFUSERS);
    }
}
