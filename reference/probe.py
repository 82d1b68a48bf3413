"""Does the model use the caption words that only matter at high noise? Held-out x0-MSE of the same noisy samples
under the true caption and under a counterfactual one, at several t (the same noise for both).

t2v: the direction words swapped for their opposites (left<->right, up<->down); t2i: the colours of the two objects
of two-object captions swapped. A model that uses those words scores the counterfactual clearly worse (ratio > 1).

    python3 reference/probe.py --folder assets/models/shapes-t2v --data eval-video.safetensors [--json OUT]
    python3 reference/probe.py --ema OUT/t2v_ema --task t2v --tokenizer tok.json --data ...
"""
import argparse
import json
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bundle  # noqa: E402
import configs  # noqa: E402
import shapes_data  # noqa: E402
from diffusion import Schedule  # noqa: E402
from tokenizer import WordTokenizer  # noqa: E402

OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up", "upward": "downward",
            "downward": "upward"}
COLOR = r"\b(red|green|blue|yellow|cyan|magenta|orange|white|purple|pink)\b"


def counterfactual(task, caption):
    """-> the caption with its direction words reversed (t2v) or its two object colours swapped (t2i); None if it
    has none to change."""
    if task == "t2v":
        new = re.sub(r"\b(left|right|up|down|upward|downward)\b", lambda m: OPPOSITE[m.group(1)], caption)
        return new if new != caption else None
    if " and " not in caption:
        return None
    head, sep, objs = caption.rpartition(":") if ":" in caption else ("", "", caption)
    cols = re.findall(COLOR, objs)
    if len(cols) < 2 or cols[0] == cols[1]:
        return None
    swapped = iter([cols[1], cols[0]])
    return head + sep + re.sub(COLOR, lambda m: next(swapped), objs, count=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder")
    ap.add_argument("--ema")
    ap.add_argument("--task", choices=["t2i", "t2v"])
    ap.add_argument("--tokenizer")
    ap.add_argument("--data", required=True, help="Shapes export of the eval split")
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--json")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (smoke tests)")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.folder:
        dit, t5, cfg, tok_path = bundle.load(args.folder)
        task = "t2i" if cfg["family"] == "pixart" else "t2v"
    else:
        import train
        task, tok_path = args.task, args.tokenizer
        model, cfg, _ = train.build(task, len(WordTokenizer.from_file(tok_path)), args.tiny)
        model.load_state_dict({k: v.float() for k, v in train.load_sharded(args.ema).items()})
        dit, t5 = model.dit.eval(), model.t5.eval()
    dit, t5 = dit.to(device).float(), t5.to(device).float()
    tok = WordTokenizer.from_file(tok_path)
    data = shapes_data.load(args.data)
    pairs = [(i, counterfactual(task, c)) for i, c in enumerate(data["captions"])]
    pairs = [(i, c) for i, c in pairs if c][:args.count]
    idx = [i for i, _ in pairs]
    x0 = data["pixels"][idx].float().to(device) / 127.5 - 1
    x0 = (x0.permute(0, 3, 1, 2) if x0.dim() == 4 else x0.permute(0, 4, 1, 2, 3)).contiguous()
    abar = Schedule().alphas_cumprod.float().to(device)
    conds = {}
    for name, caps in (("true", [data["captions"][i] for i in idx]), ("counterfactual", [c for _, c in pairs])):
        ids, mask = tok.encode_batch(caps, configs.MAX_TOKENS)
        conds[name] = (ids.to(device), mask.to(device))
    rows = []
    with torch.no_grad():
        for t in (100, 300, 500, 700, 850, 950):
            noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(t)).to(device)
            xt = abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * noise
            snr = (abar[t] / (1 - abar[t])).item()
            row = {"t": t}
            for name, (ids, mask) in conds.items():
                eps = dit(xt, torch.full((len(idx),), float(t), device=device), t5(ids, mask), mask=mask)
                row[name] = (eps - noise).pow(2).mean().item() / snr  # eps-MSE / SNR = x0-MSE
            row["ratio"] = row["counterfactual"] / row["true"]
            rows.append(row)
            print(f"[{task} probe] t={t}: x0-MSE true {row['true']:.4f} counterfactual {row['counterfactual']:.4f} "
                  f"ratio {row['ratio']:.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"task": task, "samples": len(idx), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
