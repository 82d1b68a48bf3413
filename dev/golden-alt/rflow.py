"""Writes a schedulers/rflow case folder with other sizes and settings than ../shared/golden_next, computed here in
numpy (float64) from the RFLOW formulas of Open-Sora 1.2 (opensora/schedulers/rf: RFLOW.sample, timestep_transform)
and the pseudo-model of golden_next/schedulers/rflow/NOTE.txt. It cannot run the official code; it is a second,
independent implementation that checks that the parity handler takes every size and setting from the folder.

    python3 dev/golden-alt/rflow.py OUT_DIR        # then: ./viditq parity --golden OUT_DIR --json
"""
import json
import os
import struct
import sys

import numpy as np

RUNS = {
    # batch 3, non-square, 34 frames (34 // 17 * 5 = 10), odd step count, discrete timesteps
    "rflow_wide": dict(num_timesteps=1000, use_discrete_timesteps=True, use_timestep_transform=True, cond_value=0.3,
                       uncond_value=0.9, num_sampling_steps=7, cfg_scale=3.0, height=240, width=426, num_frames=34, fps=12,
                       z_shape=[3, 4, 2, 3, 5]),
    # no transform, cfg 1 (guidance off in value), a single frame, 16 channels
    "rflow_plain": dict(num_timesteps=1000, use_discrete_timesteps=False, use_timestep_transform=False, cond_value=-0.2,
                        uncond_value=0.5, num_sampling_steps=4, cfg_scale=1.0, height=512, width=512, num_frames=1, fps=24,
                        z_shape=[1, 16, 1, 2, 7]),
}


def eps(x, t, c):
    r = t / 1000.0
    return x * r + (0.1 * np.sin(2 * x) + 0.05 * c) * (1 - r)


def timesteps(cfg):
    n, big = cfg["num_sampling_steps"], cfg["num_timesteps"]
    ts = [(1.0 - i / n) * big for i in range(n)]
    if cfg["use_discrete_timesteps"]:
        ts = [int(round(t)) for t in ts]
    ts = [np.float64(np.float32(t)) for t in ts]  # torch.tensor([t]) is float32
    if cfg["use_timestep_transform"]:
        ratio_space = np.sqrt(cfg["height"] * cfg["width"] / (512.0 * 512.0))
        frames = 1 if cfg["num_frames"] == 1 else cfg["num_frames"] // 17 * 5
        ratio = ratio_space * np.sqrt(frames)
        out = []
        for t in ts:
            s = np.float64(np.float32(t) / np.float32(big))  # t / num_timesteps stays float32
            out.append(ratio * s / (1 + (ratio - 1) * s) * big)
        ts = out
    return ts


def sample(cfg, z):
    ts = timesteps(cfg)
    b = z.shape[0]
    traj, model_t = [], []
    for i, t in enumerate(ts):
        # one call on cat([z, z]) with y = cat([y_cond, y_null]); the model's first C channels are v = -eps
        v_cond = -eps(z, t, cfg["cond_value"])
        v_null = -eps(z, t, cfg["uncond_value"])
        model_t.append([t] * (2 * b))
        v = v_null + cfg["cfg_scale"] * (v_cond - v_null)
        dt = (ts[i] - ts[i + 1] if i < len(ts) - 1 else ts[i]) / cfg["num_timesteps"]
        z = z + v * dt
        traj.append(z.copy())
    return np.stack(traj), np.array(model_t)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for blob in blobs:
            f.write(blob)


def main(out):
    case = os.path.join(out, "schedulers", "rflow")
    os.makedirs(case, exist_ok=True)
    rng = np.random.default_rng(7)
    tensors = {}
    for name, cfg in RUNS.items():
        z = rng.standard_normal(cfg["z_shape"]).astype(np.float32).astype(np.float64)
        traj, model_t = sample(cfg, z)
        tensors[name + "_x_T"] = z
        tensors[name + "_traj"] = traj
        tensors[name + "_model_t"] = model_t
    write_safetensors(os.path.join(case, "io.safetensors"), tensors)
    with open(os.path.join(case, "config.json"), "w") as f:
        json.dump(RUNS, f, indent=2)
    with open(os.path.join(case, "NOTE.txt"), "w") as f:
        f.write("Written by dev/golden-alt/rflow.py (numpy, float64): RFLOW with other sizes and settings than golden_next.\n")


if __name__ == "__main__":
    main(sys.argv[1])
