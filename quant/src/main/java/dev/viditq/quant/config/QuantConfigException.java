package dev.viditq.quant.config;

/** A quantization config that cannot be used; the message names the file or preset and the key. */
public final class QuantConfigException extends IllegalArgumentException {
    public QuantConfigException(String message) {
        super(message);
    }
}
