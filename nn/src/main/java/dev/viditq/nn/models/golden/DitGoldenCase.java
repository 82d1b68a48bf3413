package dev.viditq.nn.models.golden;

import dev.viditq.nn.models.ModelFamily;

/** Golden folder `dit`: facebookresearch/DiT `DiT`, forward and forward_with_cfg. */
public final class DitGoldenCase extends DenoiserGoldenCase {
    public DitGoldenCase() {
        super("dit", ModelFamily.DIT);
    }
}
