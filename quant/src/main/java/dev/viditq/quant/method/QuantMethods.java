package dev.viditq.quant.method;

import dev.viditq.quant.config.QuantConfig;

/** The implementation of each {@link QuantConfig.Method}. */
public final class QuantMethods {
    private QuantMethods() {}

    public static QuantMethod of(QuantConfig.Method method) {
        return switch (method) {
            case NAIVE -> new NaivePtq();
            case SMOOTHQUANT -> new SmoothQuant();
            case QUAROT -> new QuaRot();
            case VIDITQ -> new ViDiTQ();
        };
    }
}
