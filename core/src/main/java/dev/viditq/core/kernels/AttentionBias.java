package dev.viditq.core.kernels;

import java.lang.foreign.MemorySegment;

/**
 * What is added to attention scores before the softmax.
 *
 * @param perKey  F32 [lk], the same for every query and head (a caption mask as 0 / -inf or -10000), or null
 * @param perHead F32 [heads, lq, lk] (T5's relative position bias, possibly with the mask folded in), or null
 */
public record AttentionBias(MemorySegment perKey, MemorySegment perHead) {
    public static final AttentionBias NONE = new AttentionBias(null, null);

    public static AttentionBias perKey(MemorySegment keyBias) {
        return new AttentionBias(keyBias, null);
    }

    public static AttentionBias perHead(MemorySegment bias) {
        return new AttentionBias(null, bias);
    }
}
