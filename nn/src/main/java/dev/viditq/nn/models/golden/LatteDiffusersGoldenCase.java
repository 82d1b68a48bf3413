package dev.viditq.nn.models.golden;

/** Golden folder `latte_diffusers`: diffusers `LatteTransformer3DModel` on video, no caption mask. */
public final class LatteDiffusersGoldenCase extends DenoiserGoldenCase {
    public LatteDiffusersGoldenCase() {
        super("latte_diffusers", "latte", "diffusers");
    }
}
