package dev.viditq.quant.plan;

/** The bits a quantized layer runs with at some step; {@link #FLOAT} for a step range kept in floating point. */
public record Precision(int weightBits, int activationBits) {
    public static final Precision FLOAT = new Precision(0, 0);

    public Precision {
        boolean isFloat = weightBits == 0 && activationBits == 0;
        if (!isFloat && (weightBits < 2 || weightBits > 8 || activationBits < 2 || activationBits > 8)) {
            throw new IllegalArgumentException("bits W" + weightBits + "A" + activationBits + " outside 2..8");
        }
    }

    public boolean isFloat() {
        return weightBits == 0;
    }

    @Override
    public String toString() {
        return isFloat() ? "float" : "W" + weightBits + "A" + activationBits;
    }
}
