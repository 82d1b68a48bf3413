package dev.viditq.nn.models.golden;

import dev.viditq.nn.models.ModelFamily;

/** Golden folder `stdit_v1`: Open-Sora v1.0 `STDiT` on video with a caption mask. */
public final class StditV1GoldenCase extends DenoiserGoldenCase {
    public StditV1GoldenCase() {
        super("stdit_v1", ModelFamily.STDIT);
    }
}
