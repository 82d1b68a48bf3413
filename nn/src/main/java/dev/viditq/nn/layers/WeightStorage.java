package dev.viditq.nn.layers;

/** How the checkpoint the Linear was loaded from stores its weight. */
public enum WeightStorage {
    /** A float tensor (F32, BF16, F16). */
    FLOAT,
    /** Quantized only: no float weight; it runs on the executor installed at load. */
    QUANTIZED,
    /** Quantized, with the float weight kept for the steps its plan runs in float. */
    QUANTIZED_WITH_FLOAT;

    public boolean isQuantized() {
        return this != FLOAT;
    }

    public boolean hasFloatWeight() {
        return this != QUANTIZED;
    }
}
