package dev.viditq.nn.text;

/** Golden case {@code umt5_encoder}: transformers' UMT5EncoderModel, every block with its own relative bias. */
public final class Umt5Golden extends T5Golden {
    public Umt5Golden() {
        super("umt5_encoder", true);
    }
}
