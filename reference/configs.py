"""Sizes of the bundled Shapes models (and tiny variants for CPU smoke tests).

Budget: all exported BF16 weights of both model folders (their T5 included) <= 30 MB, and the Java engine on 2 CPU
cores must sample one 32x32 image (20 steps, CFG batch 2) well under a second and one 16-frame video in a few
seconds. `python3 reference/configs.py` prints parameters, megabytes and forward GFLOP per sample.
"""
import copy

MAX_TOKENS = 32  # caption length incl. </s>; Shapes captions are <= ~24 words

T5 = dict(d_model=192, d_kv=48, d_ff=384, num_layers=2, num_heads=4)

T2I = dict(family="pixart", variant="PixArt", input_size=32, patch_size=2, in_channels=3, hidden_size=256, depth=6,
           num_heads=4, mlp_ratio=4.0, pred_sigma=False, caption_channels=T5["d_model"],
           model_max_length=MAX_TOKENS, lewei_scale=1.0, base_size=16, micro_condition=False)

T2V = dict(family="stdit", version="Open-Sora v1.0 STDiT", input_size=[16, 32, 32], patch_size=[1, 4, 4],
           in_channels=3, hidden_size=256, depth=4, num_heads=4, mlp_ratio=4.0, pred_sigma=False,
           caption_channels=T5["d_model"], model_max_length=MAX_TOKENS, space_scale=1.0, time_scale=1.0)

TINY_T5 = dict(d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)


def tiny(cfg):
    c = copy.deepcopy(cfg)
    c.update(hidden_size=32, depth=1, num_heads=2, caption_channels=TINY_T5["d_model"])
    return c


def count(task, vocab=128):
    """(params, forward GFLOP per sample) of the DiT + T5, counted from the modules themselves."""
    import torch
    from pixart import PixArt
    from stdit import STDiT
    from t5 import T5EncoderModel, t5_config
    cfg = T2I if task == "t2i" else T2V
    dit = PixArt(**cfg) if task == "t2i" else STDiT(**cfg)
    t5 = T5EncoderModel(t5_config(vocab, **T5))
    n = sum(p.numel() for p in dit.parameters()) + sum(b.numel() for b in dit.buffers())
    n5 = sum(p.numel() for p in t5.parameters())
    flops = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Linear):
            flops[0] += 2 * inp[0].numel() // inp[0].shape[-1] * m.in_features * m.out_features
    handles = [m.register_forward_hook(hook) for m in dit.modules() if isinstance(m, torch.nn.Linear)]
    shape = (1, 3, 32, 32) if task == "t2i" else (1, 3, 16, 32, 32)
    with torch.no_grad():
        dit(torch.randn(shape), torch.tensor([500.0]), torch.randn(1, MAX_TOKENS, T5["d_model"]))
    for h in handles:
        h.remove()
    tokens = (32 // cfg["patch_size"]) ** 2 if task == "t2i" else \
        16 * (32 // cfg["patch_size"][1]) ** 2
    return n, n5, flops[0] / 1e9, tokens


if __name__ == "__main__":
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    total = 0
    for task in ("t2i", "t2v"):
        n, n5, gf, tokens = count(task)
        total += n + n5
        print(f"{task}: DiT {n / 1e6:.2f} M params, T5 {n5 / 1e6:.2f} M, {tokens} tokens, "
              f"linear GFLOP/forward {gf:.2f}, 20-step CFG sample {40 * gf:.0f} GFLOP")
    print(f"total {total / 1e6:.2f} M params = {2 * total / 1e6:.1f} MB in BF16")
