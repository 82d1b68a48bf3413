package dev.viditq.nn.layers;

/**
 * How the token rows of an activation group into the sequences self-attention runs over, without moving them:
 * sequence i has {@code length} tokens at rows {@code start + j·step}, where start is i·length for WHOLE and SPATIAL
 * (the sequences follow each other: one attention call covers them as groups) and, for TEMPORAL, the patch's row in
 * its sample's first frame. Spatial attention over frames and temporal attention over patches read the same
 * [B·T·S, H] buffer with different groupings.
 */
public record Sequences(int count, int length, int step, int framesPerSample, int tokensPerFrame, Kind kind) {
    public enum Kind { WHOLE, SPATIAL, TEMPORAL }

    /** Every sample's tokens form one sequence (images): {@code batch} sequences of {@code tokens}. */
    public static Sequences whole(int batch, int tokens) {
        return new Sequences(batch, tokens, 1, 1, tokens, Kind.WHOLE);
    }

    /** Tokens laid out (sample, frame, patch): attention among the S patches of each frame. */
    public static Sequences spatial(int batch, int frames, int tokensPerFrame) {
        return new Sequences(batch * frames, tokensPerFrame, 1, frames, tokensPerFrame, Kind.SPATIAL);
    }

    /** Tokens laid out (sample, frame, patch): attention among the T frames at each patch position. */
    public static Sequences temporal(int batch, int frames, int tokensPerFrame) {
        return new Sequences(batch * tokensPerFrame, frames, tokensPerFrame, frames, tokensPerFrame, Kind.TEMPORAL);
    }

    /** Position of the token at {@code row} inside its sequence (RoPE's position). */
    public int positionOf(long row) {
        return switch (kind) {
            case WHOLE, SPATIAL -> (int) (row % length);
            case TEMPORAL -> (int) ((row / tokensPerFrame) % framesPerSample);
        };
    }

    /** Total rows covered. */
    public long rows() {
        return (long) count * length;
    }
}
