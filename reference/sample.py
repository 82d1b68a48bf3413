"""Samples the Shapes models with PixArt's DPM-Solver++ (or DDIM) and classifier-free guidance, into a PNG grid.

The null caption for guidance is the learned `y_embedding` [L, D] with an all-ones mask.

    python3 reference/sample.py --folder assets/models/shapes-t2i --out PREFIX [--captions FILE] [--cfg 2,4.5]
    python3 reference/sample.py --ema OUT/t2i_ema --task t2i --tokenizer tok.json --out PREFIX

t2i grid: one row per caption, one column per seed. t2v grid: one row per caption, every other frame.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bundle  # noqa: E402
import configs  # noqa: E402
import pngio  # noqa: E402
from diffusion import Ddim, DpmSolverPP, Schedule, cfg_eps  # noqa: E402
from tokenizer import WordTokenizer  # noqa: E402

DEFAULT_CAPTIONS = {
    "t2i": ["a large red circle in the center on a black background",
            "a small blue square in the top left on a light gray background",
            "a big yellow triangle on the right on a dark blue background",
            "two shapes: a large green ring in the top left and a small magenta cross in the bottom right "
            "on a dark gray background"],
    "t2v": ["a large red circle moving right quickly on a black background",
            "a small cyan diamond moving up slowly on a dark blue background",
            "a big white square moving down quickly on a dark gray background",
            "two shapes on a black background: a large orange ring moving left slowly and a small green "
            "triangle moving down quickly"],
}


@torch.no_grad()
def generate(dit, t5, tok, captions, cfg_scale=4.5, steps=20, seed=0, sampler="dpm++", device="cpu"):
    """-> float tensor [B, 3, (T,) H, W] in model space ([-1, 1] when the model is good)."""
    L = dit.y_embedder.y_embedding.shape[0]
    ids, mask = tok.encode_batch(captions, L)
    ids, mask = ids.to(device), mask.to(device)
    y = t5(ids, mask)
    B = len(captions)
    y_null = dit.y_embedder.y_embedding[None].expand(B, -1, -1).to(y.dtype)
    mask_null = torch.ones_like(mask)
    shape = (B, dit.in_channels, 32, 32) if not hasattr(dit, "num_temporal") else \
        (B, dit.in_channels) + tuple(dit.input_size)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float32).to(device=device, dtype=y.dtype)

    def model_eps(x2, t2, cond):
        out = dit(x2, t2, cond[0], mask=cond[1])
        return out[:, :dit.in_channels]

    eps_fn = cfg_eps(model_eps, (y, mask), (y_null, mask_null), cfg_scale) if cfg_scale != 1.0 else \
        (lambda xx, tt: model_eps(xx, tt, (y, mask)))
    s = Schedule()
    solver = DpmSolverPP(s, steps=steps) if sampler == "dpm++" else Ddim(s, steps=steps)
    return solver.sample(x, eps_fn)


def grid_png(samples, path, seeds_per_caption=1):
    """samples: list over captions of tensors [S, 3, (T,) H, W]."""
    tiles = []
    video = samples[0].dim() == 5
    for s in samples:
        px = pngio.to_uint8(s.float().cpu().numpy())  # [S, (T,) H, W, 3]
        if video:
            for v in px:
                tiles += [v[t] for t in range(0, v.shape[0], 2)]
        else:
            tiles += list(px)
    cols = (samples[0].shape[2] + 1) // 2 if video else samples[0].shape[0]
    pngio.write_png(path, pngio.grid(tiles, cols, scale=2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", help="bundled model folder")
    ap.add_argument("--ema", help="EMA shard prefix written by train.py")
    ap.add_argument("--task", choices=["t2i", "t2v"])
    ap.add_argument("--tokenizer")
    ap.add_argument("--captions", action="append", default=[],
                    help="text file, one caption per line (repeatable: one grid per file); default: built-in list")
    ap.add_argument("--limit", type=int, default=6, help="captions per grid")
    ap.add_argument("--cfg", default="4.5", help="guidance scale(s), comma-separated: one grid each")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sampler", choices=["dpm++", "ddim"], default="dpm++")
    ap.add_argument("--seeds", type=int, default=4, help="samples per caption (t2i)")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (smoke tests)")
    ap.add_argument("--out", required=True, help="output prefix: PREFIX_<captions>_cfg<scale>.png (+ .txt)")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.folder:
        dit, t5, cfg, tok_path = bundle.load(args.folder)
        task = "t2i" if cfg["family"] == "pixart" else "t2v"
    else:
        import train
        task = args.task
        tok_path = args.tokenizer
        model, cfg, _ = train.build(task, len(WordTokenizer.from_file(tok_path)), args.tiny)
        model.load_state_dict(train.load_sharded(args.ema))
        dit, t5 = model.dit.eval(), model.t5.eval()
    tok = WordTokenizer.from_file(tok_path)
    dit, t5 = dit.to(device), t5.to(device)
    caption_sets = {"default": DEFAULT_CAPTIONS[task]}
    for path in args.captions:
        with open(path) as f:
            caption_sets[os.path.splitext(os.path.basename(path))[0]] = \
                [line.strip() for line in f if line.strip()][:args.limit]
    seeds = args.seeds if task == "t2i" else 1
    for name, captions in caption_sets.items():
        for scale in (float(c) for c in args.cfg.split(",")):
            samples = []
            for c in captions:
                xs = [generate(dit, t5, tok, [c], scale, args.steps, seed, args.sampler, device)
                      for seed in range(seeds)]
                samples.append(torch.cat(xs))
            out = f"{args.out}_{name}_cfg{scale:g}.png"
            grid_png(samples, out)
            with open(os.path.splitext(out)[0] + ".txt", "w") as f:
                f.write(f"cfg {scale:g}, {args.steps} steps {args.sampler}; rows:\n" + "\n".join(captions) + "\n")
            print(f"wrote {out}: {len(captions)} captions x {seeds} seeds, cfg {scale:g}")


if __name__ == "__main__":
    main()
