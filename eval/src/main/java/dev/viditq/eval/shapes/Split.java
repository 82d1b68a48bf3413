package dev.viditq.eval.shapes;

import java.nio.charset.StandardCharsets;

/**
 * The three prompt splits. A scene belongs to exactly one split, decided by a hash of its
 * {@link Scene#promptKey() prompt key} (its attribute combination, not its wording or exact placement), so the
 * splits are disjoint by construction: no calibration or evaluation prompt appears in training, in any phrasing.
 * Of the hash buckets 0..99, {@link #EVAL} owns 0..4, {@link #CALIB} 5..7 and {@link #TRAIN} the rest.
 */
public enum Split {
    TRAIN(8, 100), CALIB(5, 8), EVAL(0, 5);

    private final int firstBucket, endBucket;

    Split(int firstBucket, int endBucket) {
        this.firstBucket = firstBucket;
        this.endBucket = endBucket;
    }

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The split a scene belongs to. */
    public static Split of(Scene scene) {
        int bucket = bucket(scene.promptKey());
        for (Split s : values()) {
            if (bucket >= s.firstBucket && bucket < s.endBucket) return s;
        }
        throw new AssertionError("bucket " + bucket + " has no split");
    }

    /** FNV-1a over the key's UTF-8 bytes, mixed, in 0..99: fixed forever, unlike {@code String.hashCode} uses. */
    static int bucket(String key) {
        long h = 0xCBF29CE484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return (int) Math.floorMod(Rng.mix(h, 0), 100L);
    }
}
