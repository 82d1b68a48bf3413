"""PyTorch baseline for `viditq bench e2e --device cuda`: one PixArt-XL/2 denoiser forward with CFG (batch 2) on
random weights, at the latent sizes of the bench presets (32 = 256 px, 128 = 1024 px), in bf16, eager and
torch.compile. Prints one JSON object per line: ms per step (median), weight and peak device memory.

    python reference/bench_gpu_pixart.py --latents 32,128 --modes eager,compile --steps 10
"""
import argparse
import json
import statistics
import time

import torch

from pixart import PixArt


def measure(latent, mode, steps):
    torch.manual_seed(0)
    model = PixArt(input_size=latent, caption_channels=4096).cuda().to(torch.bfloat16).eval()
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    x = torch.randn(2, 4, latent, latent, device="cuda", dtype=torch.bfloat16)
    t = torch.full((2,), 500.0, device="cuda")
    y = torch.randn(2, 1, 120, 4096, device="cuda", dtype=torch.bfloat16)
    fn = torch.compile(model) if mode == "compile" else model
    times = []
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        t0 = time.perf_counter()
        for _ in range(3):  # warm-up (and compilation)
            fn(x, t, y)
        torch.cuda.synchronize()
        warm = time.perf_counter() - t0
        torch.cuda.reset_peak_memory_stats()
        for _ in range(steps):
            s = time.perf_counter()
            fn(x, t, y)
            torch.cuda.synchronize()
            times.append((time.perf_counter() - s) * 1e3)
    result = {"engine": "pytorch " + torch.__version__, "latent": latent, "px": latent * 8, "mode": mode,
              "dtype": "bf16", "ms_per_step": statistics.median(times), "ms_min": min(times),
              "warmup_s": warm, "weight_bytes": weight_bytes, "peak_bytes": torch.cuda.max_memory_allocated(),
              "device": torch.cuda.get_device_name()}
    del fn, model
    torch.cuda.empty_cache()
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latents", default="32,128")
    ap.add_argument("--modes", default="eager,compile")
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    for latent in map(int, a.latents.split(",")):
        for mode in a.modes.split(","):
            print(json.dumps(measure(latent, mode, a.steps)), flush=True)


if __name__ == "__main__":
    main()
