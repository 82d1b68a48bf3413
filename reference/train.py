"""Trains a bundled Shapes model: tiny PixArt-alpha (t2i) or Open-Sora v1.0 STDiT (t2v) jointly with its own T5
encoder, from scratch, in pixel space.

Recipe: DDPM epsilon objective (MSE), linear betas 1e-4..0.02 over 1000 steps, t uniform; captions dropped with
probability 0.1 for classifier-free guidance (replaced by the learned null caption `y_embedding`; the dropped row's
mask is all ones half of the time and the prompt's own mask otherwise, so both conventions work at inference);
AdamW, bf16 autocast, gradient clipping 1.0, EMA of the weights (exported). The learning rate follows the wall
clock: linear warm-up, constant, then cosine decay over the last `--decay-frac` of `--minutes`.

    python3 reference/train.py --task t2i --data shapes-image.safetensors.gz --tokenizer tok.json --out DIR \
        --minutes 7 --batch 512

Writes into --out: `{task}_ema-*.safetensors` (EMA weights in BF16, the export precision, sincos buffers F32;
prefixes `dit.` and `t5.`; split into files of at most 16.5 MB so they can travel back from the GPU machine) and
`{task}_log.json` (config, recipe, loss curve), both also every --save-every seconds.
`--resume` takes such EMA files: training restarts from those weights (as the new fp32 master weights and EMA)
with a fresh optimiser.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import configs  # noqa: E402
import shapes_data  # noqa: E402
import st_io  # noqa: E402
from diffusion import Schedule  # noqa: E402
from pixart import PixArt  # noqa: E402
from stdit import STDiT  # noqa: E402
from t5 import T5EncoderModel, t5_config  # noqa: E402
from tokenizer import WordTokenizer  # noqa: E402


class TextToPixels(torch.nn.Module):
    """The DiT and its T5 encoder as one module, so one optimiser, one EMA and one compile cover both."""

    def __init__(self, dit, t5):
        super().__init__()
        self.dit, self.t5 = dit, t5

    def forward(self, x, t, ids, mask, drop_ids=None):
        y = self.t5(ids, mask)
        return self.dit(x, t, y, mask=mask, drop_ids=drop_ids)


def build(task, vocab_size, tiny=False):
    cfg = dict(configs.T2I if task == "t2i" else configs.T2V)
    t5cfg = t5_config(vocab_size, **(configs.TINY_T5 if tiny else configs.T5))
    if tiny:
        cfg = configs.tiny(cfg)
    dit = PixArt(**cfg) if task == "t2i" else STDiT(**cfg)
    t5 = T5EncoderModel(t5cfg)
    t5.init_weights()
    return TextToPixels(dit, t5), cfg, t5cfg


def lr_at(frac, step, peak, warmup, decay_frac, floor=0.1):
    warm = min(1.0, (step + 1) / warmup)
    if frac < 1 - decay_frac:
        return peak * warm
    d = min(1.0, (frac - (1 - decay_frac)) / decay_frac)
    return peak * warm * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * d)))


def save_sharded(tensors, prefix, max_bytes=16_500_000):
    """Writes tensors into prefix-00001.safetensors, ... each at most max_bytes (one tensor may exceed it)."""
    for old in glob.glob(prefix + "-*.safetensors"):
        os.remove(old)
    shards, cur, size = [], {}, 0
    for k in sorted(tensors):
        nbytes = tensors[k].numel() * tensors[k].element_size()
        if cur and size + nbytes > max_bytes:
            shards.append(cur)
            cur, size = {}, 0
        cur[k] = tensors[k]
        size += nbytes
    shards.append(cur)
    for i, shard in enumerate(shards):
        tmp = f"{prefix}-{i + 1:05d}.tmp"
        st_io.save(tmp, shard)
        os.replace(tmp, f"{prefix}-{i + 1:05d}.safetensors")


def load_sharded(prefix):
    """EMA shards PREFIX-*.safetensors, or a bundled model folder (its DiT and T5 files, keys prefixed as here)."""
    if os.path.isfile(os.path.join(prefix, "config.json")):
        dit = st_io.load(os.path.join(prefix, "model.safetensors"))[0]
        t5 = st_io.load(os.path.join(prefix, "text_encoder", "model.safetensors"))[0]
        return {**{"dit." + k: v for k, v in dit.items()}, **{"t5." + k: v for k, v in t5.items()}}
    out = {}
    for path in sorted(glob.glob(prefix + "-*.safetensors")):
        out.update(st_io.load(path)[0])
    if not out:
        raise SystemExit(f"no weights found at {prefix}-*.safetensors")
    return out


class Ema:
    def __init__(self, model):
        self.params = [p for p in model.parameters()]
        self.shadow = [p.detach().clone().float() for p in self.params]
        self.updates = 0

    @torch.no_grad()
    def update(self, decay):
        self.updates += 1
        d = min(decay, (1 + self.updates) / (10 + self.updates))
        if hasattr(torch, "_foreach_lerp_"):
            torch._foreach_lerp_(self.shadow, [p.detach().float() for p in self.params], 1 - d)
        else:
            for s, p in zip(self.shadow, self.params):
                s.lerp_(p.detach().float(), 1 - d)

    def state_dict(self, model, dtype=torch.bfloat16):
        """The model's state dict with parameters replaced by their EMA, in `dtype` (the export precision);
        buffers (the sincos positional embeddings) stay float32."""
        sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
        names = {id(p): n for n, p in model.named_parameters()}
        for p, s in zip(self.params, self.shadow):
            sd[names[id(p)]] = s.detach().cpu().to(dtype)
        return sd


@torch.no_grad()
def inject_time_head(dit, scale=2.0, proj_std=0.02):
    """Re-initialises head 0 of block 0's temporal attention of an STDiT as a frame-index broadcaster.

    Why: the temporal position embedding enters an Open-Sora v1.0 STDiT only through the q/k/v of block 0's temporal
    attention, and the bundled t2v model had learned to ignore it: its predictions were time-reversal equivariant
    to 1-3 % (f(reversed x) = reversed f(x)), and an equivariant model cannot tell "moving left" from "moving right".
    The head gets q = k = scale * (the 64 input dims where the sincos embedding has its 32 fastest frequencies), so it
    attends to its own frame, and v = the same dims, so its output carries the frame's position embedding; a small
    random output projection writes that into the residual stream for the later blocks to use. Same architecture and
    keys: only weights change."""
    attn = dit.blocks[0].attn_temp
    C = dit.pos_embed_temporal.shape[-1]
    hd = C // attn.num_heads if hasattr(attn, "num_heads") else C // 4
    sel = list(range(hd // 2)) + list(range(C // 2, C // 2 + hd // 2))
    w, b = attn.qkv.weight, attn.qkv.bias
    for part, gain in ((0, scale), (1, scale), (2, 1.0)):
        rows = slice(part * C, part * C + hd)
        w[rows] = 0
        w[rows][torch.arange(hd), torch.tensor(sel)] = gain
        if b is not None:
            b[rows] = 0
    attn.proj.weight[:, :hd].normal_(0, proj_std)


def make_batch(data, idx, device):
    """uint8 pixels [B, (T,) H, W, 3] -> model input in [-1, 1], channels first ([B, 3, (T,) H, W])."""
    px = data["pixels"][idx].to(device, non_blocking=True)
    x = px.float() / 127.5 - 1.0
    x = x.permute(0, 3, 1, 2) if x.dim() == 4 else x.permute(0, 4, 1, 2, 3)
    return x.contiguous(), data["ids"][idx].to(device), data["mask"][idx].to(device)


def loss_fn(model, coefs, x0, ids, mask, p_uncond, p2_gamma=0.0):
    """-> (loss to minimise, plain epsilon MSE for the log). coefs: (sqrt(abar), sqrt(1 - abar), weight) as float32
    tensors [1000] on the device; weight is the per-timestep loss weight (see timestep_weights).

    p2_gamma > 0 weights each sample's epsilon MSE by (1 + SNR_t)^-gamma (P2 weighting, Choi et al. 2022), which
    shifts the emphasis from the nearly clean steps to the noisy ones where layout and motion are decided."""
    B = x0.shape[0]
    t = torch.randint(0, coefs[0].shape[0], (B,), device=x0.device)
    noise = torch.randn_like(x0)
    shape = (-1,) + (1,) * (x0.dim() - 1)
    x_t = coefs[0][t].view(shape) * x0 + coefs[1][t].view(shape) * noise
    drop = torch.rand(B, device=x0.device) < p_uncond
    full = torch.rand(B, device=x0.device) < 0.5
    mask_used = torch.where((drop & full)[:, None], torch.ones_like(mask), mask)
    # the T5 still runs on the real caption; dropped rows are replaced after it by the null caption
    y = model.t5(ids, mask)
    eps = model.dit(x_t, t.float(), y, mask=mask_used, drop_ids=drop)
    per_sample = (eps.float() - noise).pow(2).flatten(1).mean(1)
    mse = per_sample.mean()
    if len(coefs) > 2:
        return (per_sample * coefs[2][t]).mean(), mse.detach()
    if not p2_gamma:
        return mse, mse.detach()
    snr = coefs[0][t].pow(2) / coefs[1][t].pow(2)
    return (per_sample * (1 + snr).pow(-p2_gamma)).mean(), mse.detach()


def timestep_weights(abar, clip):
    """Per-timestep weights of the epsilon MSE: min(1/abar_t, clip), normalised to mean 1 over t.

    eps-MSE = SNR_t * x0-MSE, so plain epsilon training pays almost nothing for a wrong layout at high noise
    (SNR 1e-4 at t = 950): the bundled models ignored caption words that only matter there (swapping the direction
    word of a video caption, or the colours of two objects, changed the held-out loss by < 0.2 % at every t).
    1/abar = (1 + SNR)/SNR turns eps-MSE into the v-prediction loss (x0-MSE/(1 - abar)) at high noise and leaves it
    eps-MSE at low noise; the clip bounds the weight (and the gradient variance) of the very noisiest steps."""
    w = torch.clamp(1.0 / abar, max=clip)
    return (w / w.mean()).float()


AXIS_SWAPS = {"time": (("left", "right"), ("up", "down"), ("upward", "downward")),
              "hflip": (("left", "right"),)}


def word_permutation(tok, pairs):
    """Token id permutation that swaps each pair of words (ids of words not in the vocabulary are skipped)."""
    perm = torch.arange(len(tok))
    for a, b in pairs:
        if a in tok.vocab and b in tok.vocab:
            perm[tok.vocab[a]], perm[tok.vocab[b]] = tok.vocab[b], tok.vocab[a]
    return perm


def augment_video(x0, ids, perms, gen):
    """Exact label-preserving augmentations of [B, 3, T, H, W] videos: playing a clip backwards is the same scene
    moving the opposite way (directions swapped in the caption); a horizontal mirror swaps left and right (video
    captions state no positions, only directions). Each applied to a random half of the batch."""
    B = x0.shape[0]
    for kind, dim in (("time", 2), ("hflip", 4)):
        if kind not in perms:
            continue
        flag = torch.rand(B, device=x0.device, generator=gen) < 0.5
        x0 = torch.where(flag.view(-1, 1, 1, 1, 1), x0.flip(dim), x0)
        ids = torch.where(flag[:, None], perms[kind][ids], ids)
    return x0, ids


def forward_backward(step_fn, model, opt, coefs, x0, ids, mask, p_uncond, p2_gamma, device):
    opt.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
        loss, mse = step_fn(model, coefs, x0, ids, mask, p_uncond, p2_gamma)
    loss.backward()
    return mse


def snapshot(args, model, ema, log, step, seen, wall, run_loss):
    """Writes the EMA weights and the log so far (a run killed at its time limit still leaves them)."""
    save_sharded(ema.state_dict(model), os.path.join(args.out, f"{args.task}_ema"))
    log.update(steps=step, samples_seen=seen, wall_s=round(wall, 1), final_loss_smooth=run_loss)
    with open(os.path.join(args.out, f"{args.task}_log.json"), "w") as f:
        json.dump(log, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["t2i", "t2v"], required=True)
    ap.add_argument("--data", help="Shapes export (.safetensors or .safetensors.gz)")
    ap.add_argument("--fake", type=int, default=0, help="use N synthetic samples instead (smoke tests only)")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=10 ** 9)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--decay-frac", type=float, default=0.3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--p-uncond", type=float, default=0.1)
    ap.add_argument("--p2-gamma", type=float, default=0.0, help="P2 loss weighting (1 + SNR)^-gamma; 0 = plain MSE")
    ap.add_argument("--weight-clip", type=float, default=0.0,
                    help="loss weight min(1/abar_t, clip) normalised to mean 1 (see timestep_weights); 0 = off")
    ap.add_argument("--two-object-weight", type=float, default=1.0,
                    help="sampling weight of two-object scenes relative to one-object ones")
    ap.add_argument("--augment", default="", help="t2v only: comma list of time,hflip (exact augmentations)")
    ap.add_argument("--inject-time-head", action="store_true", help="t2v: see inject_time_head")
    ap.add_argument("--resume", help="prefix of EMA shards to start from")
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--save-every", type=float, default=120.0, help="seconds between EMA snapshots")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.out, exist_ok=True)
    tok = WordTokenizer.from_file(args.tokenizer)
    kind = "image" if args.task == "t2i" else "video"
    t_load = time.time()
    raw = shapes_data.fake(kind, args.fake, seed=args.seed) if args.fake else shapes_data.load(args.data)
    ids, mask = tok.encode_batch(raw["captions"], configs.MAX_TOKENS)
    data = {"pixels": raw["pixels"], "ids": ids, "mask": mask}
    if device == "cuda":
        data = {k: v.to(device) for k, v in data.items()}
    n = data["pixels"].shape[0]
    print(f"[{args.task}] {n} samples {tuple(data['pixels'].shape)} loaded in {time.time() - t_load:.1f}s; "
          f"unknown-word rate {(ids == tok.unk).float().sum().item() / mask.sum().item():.4f}", flush=True)

    model, cfg, t5cfg = build(args.task, len(tok), args.tiny)
    if args.resume:
        sd = load_sharded(args.resume)
        missing, unexpected = model.load_state_dict(sd, strict=False)
        assert not missing and not unexpected, (missing, unexpected)
        print(f"[{args.task}] resumed from {args.resume}", flush=True)
    if args.inject_time_head:
        inject_time_head(model.dit)
        print(f"[{args.task}] block 0 temporal attention head 0 re-initialised as a frame-index head", flush=True)
    model.to(device).train()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[{args.task}] {n_params / 1e6:.2f} M trainable parameters", flush=True)
    abar = Schedule().alphas_cumprod
    coefs = (abar.sqrt().float().to(device), (1 - abar).sqrt().float().to(device))
    if args.weight_clip:
        coefs = coefs + (timestep_weights(abar, args.weight_clip).to(device),)
    two = torch.tensor([" and " in c for c in raw["captions"]])
    pick = torch.where(two, args.two_object_weight, 1.0).float().to(device)
    print(f"[{args.task}] two-object scenes {int(two.sum())} of {n}, sampled with weight {args.two_object_weight}",
          flush=True)
    perms = {k: word_permutation(tok, AXIS_SWAPS[k]).to(device) for k in args.augment.split(",") if k}
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=args.weight_decay,
                            **({"fused": True} if device == "cuda" else {}))
    ema = Ema(model)
    step_fn = loss_fn
    if args.compile:
        try:
            step_fn = torch.compile(loss_fn)
        except Exception as e:  # noqa: BLE001 - any compile failure falls back to eager
            print(f"[{args.task}] torch.compile unavailable ({e}); eager", flush=True)

    log = {"task": args.task, "config": cfg, "t5": t5cfg, "args": vars(args), "samples": n, "params": n_params,
           "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "curve": []}
    t0 = time.time()
    budget = args.minutes * 60
    last_save, step, run_loss, seen = t0, 0, None, 0
    gen = torch.Generator(device=device)
    gen.manual_seed(args.seed + 1)
    while step < args.max_steps:
        elapsed = time.time() - t0
        if elapsed > budget:
            break
        lr = lr_at(elapsed / budget, step, args.lr, args.warmup, args.decay_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.multinomial(pick, args.batch, replacement=True, generator=gen)
        x0, b_ids, b_mask = make_batch(data, idx, device)
        if perms:
            x0, b_ids = augment_video(x0, b_ids, perms, gen)
        try:
            loss = forward_backward(step_fn, model, opt, coefs, x0, b_ids, b_mask, args.p_uncond, args.p2_gamma, device)
        except Exception as e:  # noqa: BLE001 - a compiled step that fails falls back to eager
            if step_fn is loss_fn:
                raise
            print(f"[{args.task}] compiled step failed ({type(e).__name__}: {e}); eager", flush=True)
            step_fn = loss_fn
            loss = forward_backward(step_fn, model, opt, coefs, x0, b_ids, b_mask, args.p_uncond, args.p2_gamma, device)
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(args.ema)
        step += 1
        seen += args.batch
        if step % 25 == 0 or step == 1:
            lv = loss.item()
            run_loss = lv if run_loss is None else 0.9 * run_loss + 0.1 * lv
            log["curve"].append({"step": step, "time": round(time.time() - t0, 2), "loss": lv,
                                 "loss_smooth": run_loss, "lr": lr, "grad_norm": float(gnorm)})
            if step % 250 == 0 or step == 1:
                print(f"[{args.task}] step {step} t {time.time() - t0:.0f}s loss {lv:.4f} (smooth {run_loss:.4f}) "
                      f"lr {lr:.2e} gnorm {float(gnorm):.2f} {seen / (time.time() - t0):.0f} samples/s", flush=True)
        if time.time() - last_save > args.save_every:
            snapshot(args, model, ema, log, step, seen, time.time() - t0, run_loss)
            last_save = time.time()
    wall = time.time() - t0
    snapshot(args, model, ema, log, step, seen, wall, run_loss)
    print(f"[{args.task}] done: {step} steps, {seen} samples in {wall:.0f}s, smooth loss {run_loss}", flush=True)


if __name__ == "__main__":
    main()
