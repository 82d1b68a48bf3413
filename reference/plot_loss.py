"""Plots the loss curves of train.py logs (several runs of one task are chained: a resumed run continues the
step axis of the one before).

    python3 reference/plot_loss.py OUT.png t2i_log.json[,t2i_log_2.json] t2v_log.json[,...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def chained(paths):
    steps, smooth, raw, offset, borders = [], [], [], 0, []
    for p in paths.split(","):
        with open(p) as f:
            log = json.load(f)
        for c in log["curve"]:
            steps.append(offset + c["step"])
            smooth.append(c["loss_smooth"])
            raw.append(c["loss"])
        offset += log["steps"]
        borders.append(offset)
    return log["task"], steps, raw, smooth, borders[:-1]


def main():
    out, runs = sys.argv[1], sys.argv[2:]
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4))
    axes = [axes] if len(runs) == 1 else axes
    for ax, paths in zip(axes, runs):
        task, steps, raw, smooth, borders = chained(paths)
        ax.plot(steps, raw, alpha=0.3, lw=0.8, label="loss (every 25 steps)")
        ax.plot(steps, smooth, lw=1.5, label="smoothed")
        for b in borders:
            ax.axvline(b, color="gray", ls="--", lw=0.8)
        ax.set_title(f"{task}: epsilon MSE")
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
