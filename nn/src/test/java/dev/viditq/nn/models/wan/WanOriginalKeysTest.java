package dev.viditq.nn.models.wan;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The original Wan 2.1 transformer names against the diffusers names, as scripts/convert_wan_to_diffusers.py renames them. */
class WanOriginalKeysTest {
    @ParameterizedTest
    @CsvSource({
            "patch_embedding.weight, patch_embedding.weight",
            "time_embedding.0.weight, condition_embedder.time_embedder.linear_1.weight",
            "time_embedding.2.bias, condition_embedder.time_embedder.linear_2.bias",
            "time_projection.1.weight, condition_embedder.time_proj.weight",
            "text_embedding.0.weight, condition_embedder.text_embedder.linear_1.weight",
            "text_embedding.2.bias, condition_embedder.text_embedder.linear_2.bias",
            "img_emb.proj.0.weight, condition_embedder.image_embedder.norm1.weight",
            "img_emb.proj.1.bias, condition_embedder.image_embedder.ff.net.0.proj.bias",
            "img_emb.proj.3.weight, condition_embedder.image_embedder.ff.net.2.weight",
            "img_emb.proj.4.bias, condition_embedder.image_embedder.norm2.bias",
            "head.modulation, scale_shift_table",
            "head.head.weight, proj_out.weight",
            "blocks.0.modulation, blocks.0.scale_shift_table",
            "blocks.12.self_attn.q.weight, blocks.12.attn1.to_q.weight",
            "blocks.3.self_attn.o.bias, blocks.3.attn1.to_out.0.bias",
            "blocks.3.self_attn.norm_q.weight, blocks.3.attn1.norm_q.weight",
            "blocks.3.self_attn.norm_k.weight, blocks.3.attn1.norm_k.weight",
            "blocks.29.cross_attn.k.weight, blocks.29.attn2.to_k.weight",
            "blocks.29.cross_attn.v.bias, blocks.29.attn2.to_v.bias",
            "blocks.29.cross_attn.k_img.weight, blocks.29.attn2.add_k_proj.weight",
            "blocks.29.cross_attn.v_img.bias, blocks.29.attn2.add_v_proj.bias",
            "blocks.29.cross_attn.norm_k_img.weight, blocks.29.attn2.norm_added_k.weight",
            "blocks.7.norm3.weight, blocks.7.norm2.weight",
            "blocks.7.norm3.bias, blocks.7.norm2.bias",
            "blocks.7.ffn.0.weight, blocks.7.ffn.net.0.proj.weight",
            "blocks.7.ffn.2.bias, blocks.7.ffn.net.2.bias",
            "blocks.7.something_else.weight, blocks.7.something_else.weight",
            "freqs, freqs"})
    void renamesAsTheConversionScript(String original, String diffusers) {
        assertEquals(diffusers, WanOriginalKeys.toDiffusers(original));
    }
}
