"""Building blocks shared by the PixArt-alpha and Open-Sora STDiT v1.0 reference models.

Written after PixArt-alpha `diffusion/model/nets/PixArt_blocks.py` and Open-Sora `opensora/models/layers/blocks.py`.
Module and parameter names follow the originals so `state_dict()` keys match the official checkpoints.
xformers' block-diagonal cross-attention is replaced by an equivalent dense attention with a key padding mask.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def approx_gelu():
    return nn.GELU(approximate="tanh")


def t2i_modulate(x, shift, scale):
    return x * (1 + scale) + shift


def attention(q, k, v, keep=None):
    """q [B, h, Nq, d], k/v [B, h, Nk, d]; keep: bool, broadcastable to [B, h, Nq, Nk], True = attend. Scale d^-0.5."""
    if hasattr(F, "scaled_dot_product_attention") and q.is_cuda:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    return scores.float().softmax(dim=-1).to(v.dtype) @ v


def key_padding_keep(mask):
    """mask [B, L] (1 = keep) -> bool [B, 1, 1, L] for `attention`."""
    return (mask != 0)[:, None, None, :]


class Mlp(nn.Module):
    """timm's Mlp with the names PixArt checkpoints use: fc1, act, fc2."""

    def __init__(self, in_features, hidden_features, out_features=None):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = approx_gelu()
        self.fc2 = nn.Linear(hidden_features, out_features or in_features)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Self-attention: qkv rows [Q | K | V], heads contiguous; then proj."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).view(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        out = attention(q, k, v).transpose(1, 2).reshape(B, N, C)
        return self.proj(out)


class MultiHeadCrossAttention(nn.Module):
    """Image tokens attend to caption tokens; kv_linear rows are [K | V]. mask [B, L] selects valid caption tokens."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.q_linear = nn.Linear(d_model, d_model)
        self.kv_linear = nn.Linear(d_model, d_model * 2)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, cond, keep):
        B, N, C = x.shape
        L = cond.shape[1]
        q = self.q_linear(x).view(B, N, self.num_heads, self.head_dim).transpose(1, 2)
        kv = self.kv_linear(cond).view(B, L, 2, self.num_heads, self.head_dim)
        k, v = kv.unbind(2)
        out = attention(q, k.transpose(1, 2), v.transpose(1, 2), keep)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class TimestepEmbedder(nn.Module):
    """256-dim [cos, sin] sinusoid (float32), then Linear, SiLU, Linear."""

    def __init__(self, hidden_size, frequency_embedding_size=256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(frequency_embedding_size, hidden_size), nn.SiLU(),
                                 nn.Linear(hidden_size, hidden_size))
        self.frequency_embedding_size = frequency_embedding_size

    @staticmethod
    def timestep_embedding(t, dim, max_period=10000):
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t[:, None].float() * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, t):
        dtype = self.mlp[0].weight.dtype
        return self.mlp(self.timestep_embedding(t, self.frequency_embedding_size).to(dtype))


class SizeEmbedder(TimestepEmbedder):
    """PixArtMS micro-condition embedder: each scalar embedded like a timestep, outputs concatenated."""

    def __init__(self, hidden_size, frequency_embedding_size=256):
        super().__init__(hidden_size, frequency_embedding_size)
        self.outdim = hidden_size

    def forward(self, s, bs):
        if s.ndim == 1:
            s = s[:, None]
        if s.shape[0] != bs:
            s = s.repeat(bs // s.shape[0], 1)
        b, dims = s.shape
        emb = super().forward(s.reshape(-1))
        return emb.reshape(b, dims * self.outdim)


class CaptionEmbedder(nn.Module):
    """y_proj MLP (GELU tanh) from caption width to hidden size, and the learned null caption `y_embedding`.

    The originals register y_embedding as a buffer; here it is a trainable parameter (same key, same shape), so the
    null caption used for classifier-free guidance is learned along with the text encoder trained from scratch.
    """

    def __init__(self, in_channels, hidden_size, token_num):
        super().__init__()
        self.y_proj = Mlp(in_channels, hidden_size, hidden_size)
        self.y_embedding = nn.Parameter(torch.randn(token_num, in_channels) / in_channels ** 0.5)

    def forward(self, caption, drop_ids=None):
        """caption [B, L, Dt]; drop_ids [B] bool: rows replaced by the null caption (classifier-free dropout)."""
        if drop_ids is not None:
            caption = torch.where(drop_ids[:, None, None], self.y_embedding.to(caption.dtype), caption)
        return self.y_proj(caption)


class T2IFinalLayer(nn.Module):
    """adaLN-single final layer: (shift, scale) = table + raw timestep embedding."""

    def __init__(self, hidden_size, num_patch, out_channels):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden_size, num_patch * out_channels)
        self.scale_shift_table = nn.Parameter(torch.randn(2, hidden_size) / hidden_size ** 0.5)

    def forward(self, x, t):
        shift, scale = (self.scale_shift_table[None] + t[:, None]).chunk(2, dim=1)
        return self.linear(t2i_modulate(self.norm_final(x), shift, scale))


def caption_inputs(y, mask):
    """Normalises caption inputs: y [B,1,L,D] or [B,L,D]; mask [B,L], [B,1,1,L] or None -> (y [B,L,D], mask [B,L])."""
    if y.dim() == 4:
        y = y.squeeze(1)
    if mask is None:
        mask = torch.ones(y.shape[:2], dtype=torch.long, device=y.device)
    mask = mask.reshape(mask.shape[0], -1)
    if mask.shape[0] != y.shape[0]:
        mask = mask.repeat(y.shape[0] // mask.shape[0], 1)
    return y, mask


# ---- sincos positional embeddings (MAE), float64 as in the originals ----

def get_1d_sincos_pos_embed_from_grid(embed_dim, pos):
    omega = np.arange(embed_dim // 2, dtype=np.float64)
    omega /= embed_dim / 2.0
    omega = 1.0 / 10000 ** omega
    out = np.einsum("m,d->md", pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def get_2d_sincos_pos_embed(embed_dim, grid_hw, scale=1.0, base_size=None):
    """Tokens row-major over (h, w); the first half of the dims encodes the column (w) coordinate.

    PixArt: pos = index / (grid/base_size) / lewei_scale. Open-Sora: pos = index / scale (* base_size/grid)."""
    gh, gw = grid_hw
    grid_h = np.arange(gh, dtype=np.float32) / scale
    grid_w = np.arange(gw, dtype=np.float32) / scale
    if base_size is not None:
        grid_h = np.arange(gh, dtype=np.float32) / (gh / base_size) / scale
        grid_w = np.arange(gw, dtype=np.float32) / (gw / base_size) / scale
    ww, hh = np.meshgrid(grid_w, grid_h)  # each [gh, gw]; w first as in the originals
    emb_w = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, ww)
    emb_h = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, hh)
    return np.concatenate([emb_w, emb_h], axis=1)


def get_1d_sincos_pos_embed(embed_dim, length, scale=1.0):
    pos = np.arange(0, length)[..., None] / scale
    return get_1d_sincos_pos_embed_from_grid(embed_dim, pos)
