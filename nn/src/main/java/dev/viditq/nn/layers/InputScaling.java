package dev.viditq.nn.layers;

import java.util.List;

/**
 * A seam for folding a per-channel scale into the operation that produces some Linears' common input, so that
 * {@code consumers} receive x ⊙ m without a pass of their own over x. The models create one wherever the input of
 * a Linear comes out of an operation that is affine per channel and feeds only the listed Linears — the adaLN
 * {@link Modulation}: (LN(x)·(1 + scale) + shift) ⊙ m = LN(x)·((1 + scale) ⊙ m) + shift ⊙ m, i.e. m is folded
 * into each sample's (scale, shift) vectors once per forward pass instead of multiplying every token.
 *
 * <p>Nothing in the models sets it; quantization does (a balancing vector whose weight side W / m is applied
 * offline), and then makes the consumers skip their own multiply. Unset (null), the producer runs unchanged.
 * One name per seam ({@code blocks.3.attn} input, {@code blocks.3.mlp} input) so that it can be reported.
 */
public final class InputScaling {
    private final String name;
    private final List<Linear> consumers;
    private final int width;
    private float[] scale;

    public InputScaling(String name, List<Linear> consumers) {
        if (consumers.isEmpty()) throw new IllegalArgumentException(name + ": an input scaling needs at least one consumer");
        this.name = name;
        this.consumers = List.copyOf(consumers);
        this.width = consumers.getFirst().inFeatures();
        for (Linear l : consumers) {
            if (l.inFeatures() != width) throw new IllegalArgumentException(name + ": consumers of different input widths");
        }
    }

    /** E.g. {@code blocks.3.mlp.input}. */
    public String name() { return name; }

    /** Every Linear that reads the scaled input: a scale folded here reaches all of them. */
    public List<Linear> consumers() { return consumers; }

    public int width() { return width; }

    /** The folded per-channel scale, or null when none is set. */
    public float[] scale() { return scale; }

    /** Folds {@code m} (length {@link #width()}) into the producer; null removes it. */
    public void set(float[] m) {
        if (m != null && m.length != width) {
            throw new IllegalArgumentException(name + ": scale of " + m.length + " channels for an input of " + width);
        }
        this.scale = m == null ? null : m.clone();
    }
}
