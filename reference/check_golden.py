"""Checks the reference models against the goldens made by the official code (../shared/golden by default).

Loads each case's config.json + model.safetensors into the modules of this folder, runs the inputs of
io.safetensors in float64, and prints the relative L2 error ||out - ref|| / ||ref|| (must be < 1e-4 for the
networks, < 1e-5 for the PixArt DPM-Solver++ and diffusers DDIM trajectories; "steps" is the fraction of DDIM
timesteps that differ). Exit code 1 if any case fails.

    python3 reference/check_golden.py [GOLDEN_DIR]
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import st_io  # noqa: E402
from diffusion import Ddim, DpmSolverPP, Schedule, cfg_eps  # noqa: E402
from pixart import PixArt  # noqa: E402
from stdit import STDiT  # noqa: E402
from t5 import T5EncoderModel  # noqa: E402


def rel_l2(out, ref):
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()


def load_case(golden, name):
    folder = os.path.join(golden, name)
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    weights = st_io.load(os.path.join(folder, "model.safetensors"))[0] \
        if os.path.exists(os.path.join(folder, "model.safetensors")) else None
    io = st_io.load(os.path.join(folder, "io.safetensors"))[0]
    return cfg, weights, io


def strict_load(model, weights):
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise SystemExit(f"key mismatch: missing {missing}, unexpected {unexpected}")
    return model.double().eval()


def check_pixart(golden):
    cfg, w, io = load_case(golden, "pixart_original")
    cfg["micro_condition"] = any(k.startswith("csize_embedder.") for k in w)
    model = strict_load(PixArt(**cfg), w)
    d = lambda k: io[k].double()
    data_info = {"img_hw": d("img_hw"), "aspect_ratio": d("aspect_ratio")}
    out = model(d("x"), d("t"), d("y"), mask=io["mask"], data_info=data_info)
    return {"out": rel_l2(out, io["out"])}


def check_stdit(golden):
    cfg, w, io = load_case(golden, "stdit_v1")
    model = strict_load(STDiT(**cfg), w)
    out = model(io["x"].double(), io["t"].double(), io["y"].double(), mask=io["mask"])
    return {"out": rel_l2(out, io["out"])}


def check_t5(golden):
    cfg, w, io = load_case(golden, "t5_encoder")
    model = strict_load(T5EncoderModel(cfg), w)
    out = model(io["input_ids"], io["attention_mask"])
    return {"out": rel_l2(out, io["out"])}


def pseudo_model(seen_t=None):
    """schedulers/NOTE.txt: eps(x, t, c) = x r + (0.1 sin(2x) + 0.05 c)(1 - r), r = t/1000, c per sample."""
    def eps(x, t, c):
        if seen_t is not None:
            seen_t.append(t[0].item())
        shape = (-1,) + (1,) * (x.dim() - 1)
        r = (t / 1000.0).view(shape)
        return x * r + (0.1 * torch.sin(2 * x) + 0.05 * c.view(shape)) * (1 - r)
    return eps


def check_pixart_dpmpp(golden):
    """PixArt's own DPM-Solver++ (multistep, order 2, time_uniform) with CFG 4.5."""
    cfg, _, io = load_case(golden, "schedulers")
    p = cfg["pixart_dpmpp"]
    seen_t = []
    cond = torch.full((1,), p["cond_value"], dtype=torch.float64)
    uncond = torch.full((1,), p["uncond_value"], dtype=torch.float64)
    eps_fn = cfg_eps(pseudo_model(seen_t), cond, uncond, p["guidance_scale"])
    out = DpmSolverPP(Schedule(), steps=p["steps"]).sample(io["x_T"].double(), eps_fn)
    model_t = torch.tensor(seen_t, dtype=torch.float64)
    return {"out": rel_l2(out, io["pixart_dpmpp_out"]), "model_t": rel_l2(model_t, io["pixart_dpmpp_model_t"])}


def check_ddim(golden):
    """diffusers DDIMScheduler (eta 0, leading spacing) driven by the pseudo-model without condition."""
    _, _, io = load_case(golden, "schedulers")
    steps = io["diffusers_ddim_timesteps"].shape[0]
    sampler = Ddim(Schedule(), steps=steps)
    model = pseudo_model()
    traj = []
    sampler.sample(io["x_T"].double(), lambda x, t: model(x, t, torch.zeros(x.shape[0], dtype=x.dtype)), traj)
    ts = torch.tensor(sampler.timesteps().copy())
    # "steps": the fraction of timesteps that differ from diffusers' (must be 0)
    return {"traj": rel_l2(torch.stack(traj), io["diffusers_ddim_traj"]),
            "steps": float((ts != io["diffusers_ddim_timesteps"]).float().mean())}


CHECKS = {"pixart_original": (check_pixart, 1e-4), "stdit_v1": (check_stdit, 1e-4),
          "t5_encoder": (check_t5, 1e-4), "schedulers/pixart_dpmpp": (check_pixart_dpmpp, 1e-5),
          "schedulers/diffusers_ddim": (check_ddim, 1e-5)}


def main():
    golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "golden")
    torch.manual_seed(0)
    failed = False
    for name, (fn, tol) in CHECKS.items():
        with torch.no_grad():
            errors = fn(golden)
        for key, err in errors.items():
            ok = err < tol
            failed |= not ok
            print(f"{name:26s} {key:8s} error {err:.3e}  (< {tol:g})  {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
