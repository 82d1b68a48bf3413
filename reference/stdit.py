"""Open-Sora v1.0 STDiT in the original key layout (hpcaitech/Open-Sora v1.0.0 `opensora/models/stdit/stdit.py`).

Per block: spatial self-attention per frame with the PixArt adaLN-single modulation; temporal self-attention per
spatial position on the unnormalised, unmodulated stream (temporal PE added to its input in block 0 only), gated by
the spatial gate; cross-attention to the caption; modulated MLP.
"""
import numpy as np
import torch
import torch.nn as nn

from layers import (Attention, CaptionEmbedder, Mlp, MultiHeadCrossAttention, T2IFinalLayer, TimestepEmbedder,
                    caption_inputs, get_1d_sincos_pos_embed, get_2d_sincos_pos_embed, key_padding_keep,
                    t2i_modulate)


class PatchEmbed3D(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, C, T, H, W] -> [B, T*H*W, C]


class STDiTBlock(nn.Module):
    def __init__(self, hidden_size, num_heads, d_s, d_t, mlp_ratio=4.0):
        super().__init__()
        self.d_s, self.d_t = d_s, d_t
        self.norm1 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden_size, num_heads)
        self.cross_attn = MultiHeadCrossAttention(hidden_size, num_heads)
        self.norm2 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(hidden_size, int(hidden_size * mlp_ratio))
        self.scale_shift_table = nn.Parameter(torch.randn(6, hidden_size) / hidden_size ** 0.5)
        self.attn_temp = Attention(hidden_size, num_heads)

    def forward(self, x, y, t6, cross_keep, tpe=None):
        B, N, C = x.shape
        T, S = self.d_t, self.d_s
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = (
            self.scale_shift_table[None] + t6.reshape(B, 6, -1)).chunk(6, dim=1)
        # spatial branch: attention inside each frame
        x_m = t2i_modulate(self.norm1(x), shift_msa, scale_msa)
        x_s = self.attn(x_m.reshape(B * T, S, C)).reshape(B, N, C)
        x = x + gate_msa * x_s
        # temporal branch: attention across frames at each spatial position, no norm/modulation
        x_t = x.reshape(B, T, S, C).transpose(1, 2).reshape(B * S, T, C)
        if tpe is not None:
            x_t = x_t + tpe
        x_t = self.attn_temp(x_t).reshape(B, S, T, C).transpose(1, 2).reshape(B, N, C)
        x = x + gate_msa * x_t
        x = x + self.cross_attn(x, y, cross_keep)
        x = x + gate_mlp * self.mlp(t2i_modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


class STDiT(nn.Module):
    def __init__(self, input_size=(1, 32, 32), in_channels=4, patch_size=(1, 2, 2), hidden_size=1152, depth=28,
                 num_heads=16, mlp_ratio=4.0, pred_sigma=True, caption_channels=4096, model_max_length=120,
                 space_scale=1.0, time_scale=1.0, **_ignored):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = in_channels * 2 if pred_sigma else in_channels
        self.input_size = tuple(input_size)
        self.patch_size = tuple(patch_size)
        grid = [self.input_size[i] // self.patch_size[i] for i in range(3)]
        self.num_temporal = grid[0]
        self.num_spatial = grid[1] * grid[2]
        pe = get_2d_sincos_pos_embed(hidden_size, (grid[1], grid[2]), scale=space_scale)
        self.register_buffer("pos_embed", torch.from_numpy(pe).float().unsqueeze(0))
        tpe = get_1d_sincos_pos_embed(hidden_size, grid[0], scale=time_scale)
        self.register_buffer("pos_embed_temporal", torch.from_numpy(tpe).float().unsqueeze(0))
        self.x_embedder = PatchEmbed3D(self.patch_size, in_channels, hidden_size)
        self.t_embedder = TimestepEmbedder(hidden_size)
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 6 * hidden_size))
        self.y_embedder = CaptionEmbedder(caption_channels, hidden_size, model_max_length)
        self.blocks = nn.ModuleList([STDiTBlock(hidden_size, num_heads, self.num_spatial, self.num_temporal,
                                                mlp_ratio) for _ in range(depth)])
        self.final_layer = T2IFinalLayer(hidden_size, int(np.prod(self.patch_size)), self.out_channels)
        self.initialize_weights()

    def initialize_weights(self):
        """As Open-Sora: xavier linears, N(0, 0.02) embedders, zero cross-attn/temporal proj and output layer."""
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
            for lin in (block.cross_attn.proj, block.attn_temp.proj):
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def forward(self, x, t, y, mask=None, drop_ids=None):
        """x [B, C, T, H, W], t [B], y [B,1,L,D] or [B,L,D], mask [B,L]. Returns [B, out_channels, T, H, W]."""
        B = x.shape[0]
        T, S = self.num_temporal, self.num_spatial
        # patch embedding and output layer in the buffers' precision (fp32) even under bf16 autocast: at high noise
        # eps ~ x_t must be reproduced to ~0.1%, which bf16 rounding of the input/output alone would prevent
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = self.x_embedder(x.to(self.pos_embed.dtype))
        C = x.shape[-1]
        x = (x.reshape(B, T, S, C) + self.pos_embed).reshape(B, T * S, C)
        te = self.t_embedder(t)
        t6 = self.t_block(te)
        y, mask = caption_inputs(y, mask)
        y = self.y_embedder(y, drop_ids)
        keep = key_padding_keep(mask)
        for i, block in enumerate(self.blocks):
            x = block(x, y, t6, keep, self.pos_embed_temporal if i == 0 else None)
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = self.final_layer(x, te.to(x.dtype))
        return self.unpatchify(x)

    def unpatchify(self, x):
        nt, nh, nw = [self.input_size[i] // self.patch_size[i] for i in range(3)]
        pt, ph, pw = self.patch_size
        c = self.out_channels
        x = x.reshape(x.shape[0], nt, nh, nw, pt, ph, pw, c)
        x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)  # B C nt pt nh ph nw pw
        return x.reshape(x.shape[0], c, nt * pt, nh * ph, nw * pw)
