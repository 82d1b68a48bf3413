"""T5 encoder (v1.1 style: gated-GELU feed-forward, RMS layer norms, relative position buckets), with the module
names of huggingface/transformers `T5EncoderModel`, so `state_dict()` keys equal what `save_pretrained` writes:
`shared.weight`, `encoder.block.{i}.layer.0.SelfAttention.{q,k,v,o}.weight`,
`encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight`, `encoder.block.{i}.layer.0.layer_norm.weight`,
`encoder.block.{i}.layer.1.DenseReluDense.{wi_0,wi_1,wo}.weight`, `encoder.block.{i}.layer.1.layer_norm.weight`,
`encoder.final_layer_norm.weight`. No attention score scaling (T5 folds it into the initialisation).
"""
import math

import torch
import torch.nn as nn


class T5LayerNorm(nn.Module):
    """RMS norm without mean subtraction or bias, computed in float32."""

    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.eps)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return self.weight * x


def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    """Bidirectional buckets: half for each sign, exact below num_buckets/4, log-spaced up to max_distance."""
    num_buckets //= 2
    buckets = (relative_position > 0).to(torch.long) * num_buckets
    n = torch.abs(relative_position)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, n, large)


class T5Attention(nn.Module):
    def __init__(self, cfg, has_relative_bias):
        super().__init__()
        self.n_heads, self.d_kv = cfg["num_heads"], cfg["d_kv"]
        inner = self.n_heads * self.d_kv
        self.num_buckets = cfg["relative_attention_num_buckets"]
        self.max_distance = cfg["relative_attention_max_distance"]
        self.q = nn.Linear(cfg["d_model"], inner, bias=False)
        self.k = nn.Linear(cfg["d_model"], inner, bias=False)
        self.v = nn.Linear(cfg["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, cfg["d_model"], bias=False)
        if has_relative_bias:
            self.relative_attention_bias = nn.Embedding(self.num_buckets, self.n_heads)

    def compute_bias(self, length, device):
        pos = torch.arange(length, dtype=torch.long, device=device)
        rel = pos[None, :] - pos[:, None]  # key - query
        buckets = relative_position_bucket(rel, self.num_buckets, self.max_distance)
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)  # [1, h, q, k]

    def forward(self, x, position_bias):
        B, L, _ = x.shape
        split = lambda t: t.view(B, L, self.n_heads, self.d_kv).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-2, -1) + position_bias
        attn = scores.float().softmax(dim=-1).to(v.dtype)
        out = (attn @ v).transpose(1, 2).reshape(B, L, self.n_heads * self.d_kv)
        return self.o(out)


class T5LayerSelfAttention(nn.Module):
    def __init__(self, cfg, has_relative_bias):
        super().__init__()
        self.SelfAttention = T5Attention(cfg, has_relative_bias)
        self.layer_norm = T5LayerNorm(cfg["d_model"], cfg["layer_norm_epsilon"])

    def forward(self, x, position_bias):
        return x + self.SelfAttention(self.layer_norm(x), position_bias)


class T5DenseGatedActDense(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wi_0 = nn.Linear(cfg["d_model"], cfg["d_ff"], bias=False)
        self.wi_1 = nn.Linear(cfg["d_model"], cfg["d_ff"], bias=False)
        self.wo = nn.Linear(cfg["d_ff"], cfg["d_model"], bias=False)
        self.act = nn.GELU(approximate="tanh")  # transformers' "gelu_new"

    def forward(self, x):
        return self.wo(self.act(self.wi_0(x)) * self.wi_1(x))


class T5LayerFF(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(cfg)
        self.layer_norm = T5LayerNorm(cfg["d_model"], cfg["layer_norm_epsilon"])

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class T5Block(nn.Module):
    def __init__(self, cfg, has_relative_bias):
        super().__init__()
        self.layer = nn.ModuleList([T5LayerSelfAttention(cfg, has_relative_bias), T5LayerFF(cfg)])

    def forward(self, x, position_bias):
        return self.layer[1](self.layer[0](x, position_bias))


class T5Stack(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.block = nn.ModuleList([T5Block(cfg, i == 0) for i in range(cfg["num_layers"])])
        self.final_layer_norm = T5LayerNorm(cfg["d_model"], cfg["layer_norm_epsilon"])


class T5EncoderModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg.get("feed_forward_proj", "gated-gelu") == "gated-gelu", "only T5 v1.1 gated-gelu is supported"
        self.cfg = cfg
        self.shared = nn.Embedding(cfg["vocab_size"], cfg["d_model"])
        self.encoder = T5Stack(cfg)

    def forward(self, input_ids, attention_mask=None):
        """Returns last_hidden_state [B, L, d_model]. Rows past the mask are computed too (as transformers does)."""
        x = self.shared(input_ids)
        L = input_ids.shape[1]
        bias = self.encoder.block[0].layer[0].SelfAttention.compute_bias(L, input_ids.device).to(x.dtype)
        if attention_mask is not None:
            neg = torch.finfo(x.dtype if x.dtype != torch.bfloat16 else torch.float32).min
            bias = bias + (1.0 - attention_mask[:, None, None, :].to(bias.dtype)) * neg
        for block in self.encoder.block:
            x = block(x, bias)
        return self.encoder.final_layer_norm(x)

    def init_weights(self):
        """transformers' T5 initialisation (initializer_factor 1)."""
        c = self.cfg
        d, dkv, h, dff = c["d_model"], c["d_kv"], c["num_heads"], c["d_ff"]
        nn.init.normal_(self.shared.weight, std=1.0)
        for block in self.encoder.block:
            att = block.layer[0].SelfAttention
            nn.init.normal_(att.q.weight, std=(d * dkv) ** -0.5)
            nn.init.normal_(att.k.weight, std=d ** -0.5)
            nn.init.normal_(att.v.weight, std=d ** -0.5)
            nn.init.normal_(att.o.weight, std=(h * dkv) ** -0.5)
            if hasattr(att, "relative_attention_bias"):
                nn.init.normal_(att.relative_attention_bias.weight, std=d ** -0.5)
            ff = block.layer[1].DenseReluDense
            nn.init.normal_(ff.wi_0.weight, std=d ** -0.5)
            nn.init.normal_(ff.wi_1.weight, std=d ** -0.5)
            nn.init.normal_(ff.wo.weight, std=dff ** -0.5)


def t5_config(vocab_size, d_model, d_kv, d_ff, num_layers, num_heads, num_buckets=32, max_distance=128):
    """A transformers-style config.json dict for a T5 v1.1 encoder."""
    return {
        "architectures": ["T5EncoderModel"], "model_type": "t5", "vocab_size": vocab_size, "d_model": d_model,
        "d_kv": d_kv, "d_ff": d_ff, "num_layers": num_layers, "num_decoder_layers": num_layers,
        "num_heads": num_heads, "relative_attention_num_buckets": num_buckets,
        "relative_attention_max_distance": max_distance, "dropout_rate": 0.0, "layer_norm_epsilon": 1e-6,
        "initializer_factor": 1.0, "feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu_new",
        "is_gated_act": True, "is_encoder_decoder": False, "use_cache": False, "pad_token_id": 0,
        "eos_token_id": 1, "tie_word_embeddings": False, "dtype": "bfloat16",
    }
