"""PyTorch's CPU GEMMs (oneDNN) and attention at the PixArt-XL/2 shapes: the library peer of `viditq bench kernels --only matrix`.

BF16 x BF16 -> FP32-accumulated matmul and int8 x int8 -> int32 (torch._int_mm), M tokens x K -> N, GFLOP/s (GOP/s)
as medians of timed calls after a warm-up, at each thread count given. On a CPU with AMX, torch 2.11 ran the BF16
matmul as oneDNN's brg_matmul on the tiles (ONEDNN_VERBOSE=1 names it: "brg_matmul:avx10_1_512_amx") and _int_mm
through oneDNN's gemm_api, so dividing these figures by the tile-only ceilings of `viditq bench kernels --only matrix`
in the same session says what fraction of the ceiling a mature library reaches on the same host. Attention: scaled_dot_product_attention in BF16 over 16 heads of 72, self-attention
of L tokens, GFLOP/s counted as 4 * L * L * 72 per head, as `bench kernels` counts ours.

    python3 reference/bench_cpu_gemm_torch.py --threads 2,16 --m 1024 --json
"""
import argparse
import json
import statistics
import sys
import time

import torch

SHAPES = [(1152, 1152), (1152, 4608), (4608, 1152)]  # (K, N): attention projections, MLP up, MLP down


def median_seconds(fn, reps, warmup=5):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_shape(m, k, n, reps):
    gen = torch.Generator().manual_seed(m * 7 + k * 3 + n)
    a = torch.randn(m, k, generator=gen).to(torch.bfloat16)
    w = torch.randn(n, k, generator=gen).to(torch.bfloat16)  # a Linear's weight, [out, in]
    ops = 2.0 * m * k * n
    out = {"m": m, "k": k, "n": n}
    with torch.no_grad():
        out["bf16_linear_gflops"] = ops / median_seconds(lambda: torch.nn.functional.linear(a, w), reps) / 1e9
        wt = w.t().contiguous()
        out["bf16_matmul_gflops"] = ops / median_seconds(lambda: torch.matmul(a, wt), reps) / 1e9
        a8 = torch.randint(-127, 128, (m, k), generator=gen, dtype=torch.int8)
        b8 = torch.randint(-127, 128, (k, n), generator=gen, dtype=torch.int8)
        try:
            out["int8_int_mm_gops"] = ops / median_seconds(lambda: torch._int_mm(a8, b8), reps) / 1e9
        except RuntimeError as e:  # _int_mm on CPU needs a build with oneDNN's int8 matmul
            out["int8_int_mm_error"] = str(e).splitlines()[0]
    return out


def bench_attention(tokens, reps, heads=16, head_dim=72):
    gen = torch.Generator().manual_seed(tokens)
    q, k, v = (torch.randn(1, heads, tokens, head_dim, generator=gen).to(torch.bfloat16) for _ in range(3))
    flops = 4.0 * tokens * tokens * head_dim * heads
    with torch.no_grad():
        sec = median_seconds(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v), reps)
    return {"tokens": tokens, "heads": heads, "head_dim": head_dim, "attention_bf16_gflops": flops / sec / 1e9}


def report(result, results):
    results.append(result)
    print(" ".join(f"{k}={round(v, 1) if isinstance(v, float) else v}" for k, v in result.items()), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="2")
    p.add_argument("--m", type=int, default=1024)
    p.add_argument("--reps", type=int, default=21)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    results = []
    for t in [int(x) for x in args.threads.split(",")]:
        torch.set_num_threads(t)
        for k, n in SHAPES:
            r = bench_shape(args.m, k, n, args.reps)
            r["threads"] = t
            report(r, results)
        for tokens in (4096, 1024):
            r = bench_attention(tokens, max(5, args.reps // 3))
            r["threads"] = t
            report(r, results)
    info = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkldnn": torch.backends.mkldnn.is_available()}
    print(json.dumps({"info": info, "results": results}) if args.json else info)


if __name__ == "__main__":
    main()
