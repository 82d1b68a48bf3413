"""PixArt-alpha in the original key layout (PixArt-alpha `diffusion/model/nets/PixArt.py`, `PixArtMS.py`).

One class covers both: `micro_condition=True` adds PixArtMS's csize/ar embedders (width hidden/3 each) whose
output is added to the timestep embedding. The positional embedding is recomputed from the input's patch grid
(PixArtMS behaviour; for the square training size it equals the stored `pos_embed` buffer of PixArt).
"""
import torch
import torch.nn as nn

from layers import (Attention, CaptionEmbedder, Mlp, MultiHeadCrossAttention, SizeEmbedder, T2IFinalLayer,
                    TimestepEmbedder, caption_inputs, get_2d_sincos_pos_embed, key_padding_keep, t2i_modulate)


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class PixArtBlock(nn.Module):
    def __init__(self, hidden_size, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden_size, num_heads)
        self.cross_attn = MultiHeadCrossAttention(hidden_size, num_heads)
        self.norm2 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(hidden_size, int(hidden_size * mlp_ratio))
        self.scale_shift_table = nn.Parameter(torch.randn(6, hidden_size) / hidden_size ** 0.5)

    def forward(self, x, y, t6, cross_keep):
        B = x.shape[0]
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = (
            self.scale_shift_table[None] + t6.reshape(B, 6, -1)).chunk(6, dim=1)
        x = x + gate_msa * self.attn(t2i_modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + self.cross_attn(x, y, cross_keep)  # no norm, no gate
        x = x + gate_mlp * self.mlp(t2i_modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


class PixArt(nn.Module):
    def __init__(self, input_size=32, patch_size=2, in_channels=4, hidden_size=1152, depth=28, num_heads=16,
                 mlp_ratio=4.0, pred_sigma=True, caption_channels=4096, model_max_length=120, lewei_scale=1.0,
                 base_size=None, micro_condition=False, **_ignored):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = in_channels * 2 if pred_sigma else in_channels
        self.patch_size = patch_size
        self.lewei_scale = lewei_scale
        self.base_size = base_size or input_size // patch_size
        grid = input_size // patch_size
        self.x_embedder = PatchEmbed(patch_size, in_channels, hidden_size)
        self.t_embedder = TimestepEmbedder(hidden_size)
        self.register_buffer("pos_embed", self._pos_embed(grid, grid, hidden_size))
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 6 * hidden_size))
        self.y_embedder = CaptionEmbedder(caption_channels, hidden_size, model_max_length)
        self.micro_condition = micro_condition
        if micro_condition:
            self.csize_embedder = SizeEmbedder(hidden_size // 3)
            self.ar_embedder = SizeEmbedder(hidden_size // 3)
        self.blocks = nn.ModuleList([PixArtBlock(hidden_size, num_heads, mlp_ratio) for _ in range(depth)])
        self.final_layer = T2IFinalLayer(hidden_size, patch_size * patch_size, self.out_channels)
        self.initialize_weights()

    def _pos_embed(self, gh, gw, hidden):
        pe = get_2d_sincos_pos_embed(hidden, (gh, gw), scale=self.lewei_scale, base_size=self.base_size)
        return torch.from_numpy(pe).float().unsqueeze(0)

    def initialize_weights(self):
        """As PixArt: xavier linears, N(0, 0.02) embedders, zero cross-attn proj and output layer."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        w = self.x_embedder.proj.weight.data
        nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
        for lin in (self.t_embedder.mlp[0], self.t_embedder.mlp[2], self.t_block[1],
                    self.y_embedder.y_proj.fc1, self.y_embedder.y_proj.fc2):
            nn.init.normal_(lin.weight, std=0.02)
        for block in self.blocks:
            nn.init.zeros_(block.cross_attn.proj.weight)
            nn.init.zeros_(block.cross_attn.proj.bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def forward(self, x, t, y, mask=None, data_info=None, drop_ids=None):
        """x [B,C,H,W], t [B], y [B,1,L,D] or [B,L,D], mask [B,L] (1 = keep). Returns [B, out_channels, H, W]."""
        B = x.shape[0]
        h, w = x.shape[-2] // self.patch_size, x.shape[-1] // self.patch_size
        pos = self.pos_embed if h * w == self.pos_embed.shape[1] and h == w else \
            self._pos_embed(h, w, self.pos_embed.shape[-1]).to(x.device)
        # patch embedding and output layer in the buffers' precision (fp32) even under bf16 autocast: at high noise
        # eps ~ x_t must be reproduced to ~0.1%, which bf16 rounding of the input/output alone would prevent
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = self.x_embedder(x.to(self.pos_embed.dtype)) + pos.to(self.pos_embed.dtype)
        te = self.t_embedder(t)
        if self.micro_condition:
            csize = self.csize_embedder(data_info["img_hw"], B)
            ar = self.ar_embedder(data_info["aspect_ratio"], B)
            te = te + torch.cat([csize, ar], dim=1)
        t6 = self.t_block(te)
        y, mask = caption_inputs(y, mask)
        y = self.y_embedder(y, drop_ids)
        keep = key_padding_keep(mask)
        for block in self.blocks:
            x = block(x, y, t6, keep)
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = self.final_layer(x, te.to(x.dtype))
        return self.unpatchify(x, h, w)

    def unpatchify(self, x, h, w):
        c, p = self.out_channels, self.patch_size
        x = x.reshape(x.shape[0], h, w, p, p, c)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(x.shape[0], c, h * p, w * p)
