package dev.viditq.nn.models.wan;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The original Wan 2.1 repository's transformer keys ({@code WanModel}, Wan-AI/Wan2.1-T2V-1.3B and the other
 * non-diffusers releases) mapped to the diffusers names this code loads, as diffusers'
 * scripts/convert_wan_to_diffusers.py renames them. The original calls its cross-attention norm {@code norm3} (its
 * norm1/norm2 carry no parameters); the RoPE table is not stored in either layout. Keys no rule covers are kept as
 * they are, so that the loader reports them as unexpected.
 */
public final class WanOriginalKeys {
    /** Whole-model prefixes, original → diffusers. */
    static final List<Map.Entry<String, String>> TOP_LEVEL = List.of(
            Map.entry("patch_embedding", "patch_embedding"),
            Map.entry("time_embedding.0", "condition_embedder.time_embedder.linear_1"),
            Map.entry("time_embedding.2", "condition_embedder.time_embedder.linear_2"),
            Map.entry("time_projection.1", "condition_embedder.time_proj"),
            Map.entry("text_embedding.0", "condition_embedder.text_embedder.linear_1"),
            Map.entry("text_embedding.2", "condition_embedder.text_embedder.linear_2"),
            Map.entry("img_emb.proj.0", "condition_embedder.image_embedder.norm1"),
            Map.entry("img_emb.proj.1", "condition_embedder.image_embedder.ff.net.0.proj"),
            Map.entry("img_emb.proj.3", "condition_embedder.image_embedder.ff.net.2"),
            Map.entry("img_emb.proj.4", "condition_embedder.image_embedder.norm2"),
            Map.entry("head.modulation", "scale_shift_table"),
            Map.entry("head.head", "proj_out"));

    /** Prefixes inside {@code blocks.N.}, original → diffusers. */
    static final List<Map.Entry<String, String>> IN_BLOCK = List.of(
            Map.entry("self_attn.q", "attn1.to_q"),
            Map.entry("self_attn.k", "attn1.to_k"),
            Map.entry("self_attn.v", "attn1.to_v"),
            Map.entry("self_attn.o", "attn1.to_out.0"),
            Map.entry("self_attn.norm_q", "attn1.norm_q"),
            Map.entry("self_attn.norm_k", "attn1.norm_k"),
            Map.entry("cross_attn.q", "attn2.to_q"),
            Map.entry("cross_attn.k", "attn2.to_k"),
            Map.entry("cross_attn.v", "attn2.to_v"),
            Map.entry("cross_attn.o", "attn2.to_out.0"),
            Map.entry("cross_attn.norm_q", "attn2.norm_q"),
            Map.entry("cross_attn.norm_k", "attn2.norm_k"),
            Map.entry("cross_attn.k_img", "attn2.add_k_proj"),
            Map.entry("cross_attn.v_img", "attn2.add_v_proj"),
            Map.entry("cross_attn.norm_k_img", "attn2.norm_added_k"),
            Map.entry("norm3", "norm2"),
            Map.entry("ffn.0", "ffn.net.0.proj"),
            Map.entry("ffn.2", "ffn.net.2"),
            Map.entry("modulation", "scale_shift_table"));

    private static final Pattern BLOCK = Pattern.compile("(blocks\\.\\d+)\\.(.+)");

    private WanOriginalKeys() {}

    /** The diffusers name of an original key (unchanged when no rule applies). */
    public static String toDiffusers(String key) {
        Matcher m = BLOCK.matcher(key);
        if (m.matches()) {
            String renamed = replacePrefix(m.group(2), IN_BLOCK);
            return renamed == null ? key : m.group(1) + "." + renamed;
        }
        String renamed = replacePrefix(key, TOP_LEVEL);
        return renamed == null ? key : renamed;
    }

    /** The key with its rule's prefix replaced (prefixes end at a '.' boundary), or null when none applies. */
    private static String replacePrefix(String key, List<Map.Entry<String, String>> rules) {
        for (Map.Entry<String, String> r : rules) {
            String from = r.getKey();
            if (key.equals(from) || key.startsWith(from + ".")) return r.getValue() + key.substring(from.length());
        }
        return null;
    }
}
