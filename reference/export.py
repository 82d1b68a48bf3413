"""Writes a bundled model folder (see bundle.py for the layout) from the EMA weights train.py saved.

    python3 reference/export.py --task t2i --ema OUT/t2i_ema --tokenizer tok.json --log OUT/t2i_log.json \
        --out assets/models/shapes-t2i --cfg 4.5
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bundle  # noqa: E402
import train  # noqa: E402
from tokenizer import WordTokenizer  # noqa: E402


def pipeline_section(task, cfg_scale, steps):
    p = {
        "sampler": "dpm-solver++",
        "sampler_variant": "PixArt-alpha dpm_solver.py: multistep, order 2, time_uniform, t from 1 to 1e-3, "
                           "model time 1000*(t - 1e-3), no final denoise",
        "steps": steps,
        "cfg_scale": cfg_scale,
        "cfg_channels": "all",
        "null_caption": "y_embedder.y_embedding [model_max_length, caption_channels] replaces the T5 output; "
                        "mask all ones (the prompt's own mask also works: both were trained)",
        "text_encoder": "text_encoder",
        "tokenizer": "tokenizer",
        "caption_max_length": None,  # filled below
        "num_train_timesteps": 1000,
        "beta_schedule": "linear",
        "beta_start": 0.0001,
        "beta_end": 0.02,
        "prediction_type": "epsilon",
        "space": "pixel",
        "vae": None,
        "value_range": [-1.0, 1.0],
        "to_uint8": "round(clip((x + 1) * 127.5, 0, 255))",
        "channels": "RGB",
        "height": 32,
        "width": 32,
    }
    if task == "t2v":
        p["frames"] = 16
        p["layout"] = "[B, C, T, H, W]"
    else:
        p["layout"] = "[B, C, H, W]"
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["t2i", "t2v"], required=True)
    ap.add_argument("--ema", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--log", help="training log json (recorded in config.json's 'training' section)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cfg", type=float, default=4.5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (smoke tests)")
    args = ap.parse_args()
    tok = WordTokenizer.from_file(args.tokenizer)
    model, cfg, t5cfg = train.build(args.task, len(tok), args.tiny)
    sd = train.load_sharded(args.ema)
    model.load_state_dict(sd)  # validates keys and shapes before anything is written
    pipe = pipeline_section(args.task, args.cfg, args.steps)
    pipe["caption_max_length"] = cfg["model_max_length"]
    extra = {}
    if args.log:
        with open(args.log) as f:
            log = json.load(f)
        extra["training"] = {k: log.get(k) for k in ("steps", "samples", "samples_seen", "wall_s", "device",
                                                      "final_loss_smooth")}
    bundle.export(sd, cfg, t5cfg, args.tokenizer, args.out, pipe, extra)
    sizes = {p: os.path.getsize(os.path.join(args.out, p)) for p in
             ("model.safetensors", os.path.join("text_encoder", "model.safetensors"))}
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
