"""Time to target: wall seconds (and FLOPs) until each evaluation seed first reaches a
target test accuracy, per width. Descriptive: it reads the frontier's evaluation fits
(`run.others["frontier"]`) and trains nothing of its own.
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.decide import MIN_SEEDS
from whydl.evidence.experiment import Experiment
from whydl.evidence.rows import levels, select
from whydl.plots.bands import mean_and_ci
from whydl.plots.style import PALETTE, new_figure

TARGET_ACCURACY = 0.95  # test accuracy for the time-to-target report


def time_to_target(rows, target: float = TARGET_ACCURACY) -> list[dict]:
    """Per evaluation seed and width: the first epoch at which the seed's test accuracy
    reaches `target`, with the wall seconds and FLOPs spent by then (NaN: never)."""
    grid = select(rows, kind="config")
    out = []
    for width in levels(grid, "width"):
        for seed in levels(grid, "seed", width=width):
            reached = sorted(
                (r["epoch"], r["seconds"], r["flops"])
                for r in select(grid, width=width, seed=seed)
                if r["test_accuracy"] >= target
            )
            epoch, seconds, flops = reached[0] if reached else (np.nan, np.nan, np.nan)
            out.append(
                {
                    "seed": seed,
                    "width": width,
                    "target_accuracy": target,
                    "epoch_to_target": epoch,
                    "seconds_to_target": seconds,
                    "flops_to_target": flops,
                }
            )
    return out


def summary(rows) -> list[dict]:
    """Per width: seeds reaching the target, and mean seconds (95% CI) and FLOPs over them."""
    out = []
    for width in levels(rows, "width"):
        mine = select(rows, width=width)
        seconds = np.array([r["seconds_to_target"] for r in mine], dtype=float)
        flops = np.array([r["flops_to_target"] for r in mine], dtype=float)
        ok = np.isfinite(seconds)
        mean = low = high = np.nan
        if ok.any():
            mean, low, high = (v[0] for v in mean_and_ci(seconds[ok][:, None]))
        out.append(
            {
                "width": width,
                "seeds_reaching": int(ok.sum()),
                "seeds": len(mine),
                "seconds": mean,
                "seconds_ci": (high - low) / 2 if ok.sum() >= MIN_SEEDS else np.nan,
                "flops": float(np.mean(flops[ok])) if ok.any() else np.nan,
            }
        )
    return out


class TimeToTarget(Experiment):
    name = "time_to_target"

    def rows(self, run):
        return time_to_target(run.others["frontier"].rows)

    def figures(self, run):
        fig, ax = new_figure()
        widths = summary(run.rows)
        for i, t in enumerate(widths):
            if t["seeds_reaching"]:
                ci = t["seconds_ci"] if np.isfinite(t["seconds_ci"]) else None
                ax.bar(i, t["seconds"], yerr=ci, capsize=4, color=PALETTE["sky"])
                label = f"{t['seeds_reaching']}/{t['seeds']}"
                top = t["seconds"] + (ci or 0.0)  # above the error bar
                ax.text(i, top, label, ha="center", va="bottom", fontsize=8)
            else:
                ax.text(i, 0, "not\nreached", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(widths)), [str(t["width"]) for t in widths])
        ax.set_xlabel("hidden width (two layers)")
        ax.set_ylabel(f"wall seconds to {TARGET_ACCURACY:.0%} test accuracy")
        ax.set_ylim(bottom=0)
        ax.set_title(f"Wall time to {TARGET_ACCURACY:.0%} test accuracy, by width")
        caption = (
            f"Wall-clock seconds until each evaluation seed first reaches {TARGET_ACCURACY:.0%} "
            f"test accuracy on its own split of digits (mean over the seeds that reach it, "
            f"95% CI when at least {MIN_SEEDS} do; labels: seeds reaching / seeds). All seeds "
            "of a width train at once, on one thread, so this is the time for all of them."
        )
        return {"time_to_target": (fig, caption)}

    def notes(self, run):
        reached = [t for t in summary(run.rows) if t["seeds"] and t["seeds_reaching"] == t["seeds"]]
        if not reached:
            return [f"No width reached {TARGET_ACCURACY:.0%} test accuracy on every seed."]
        best = min(reached, key=lambda t: t["seconds"])
        ci = f" (95% CI ±{best['seconds_ci']:.2f})" if np.isfinite(best["seconds_ci"]) else ""
        return [
            f"Fastest to {TARGET_ACCURACY:.0%} test accuracy: width {best['width']} in "
            f"{best['seconds']:.2f} s{ci} for all {best['seeds']} seeds at once, "
            f"{best['flops']:.2g} FLOPs."
        ]
