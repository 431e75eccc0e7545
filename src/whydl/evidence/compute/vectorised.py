"""Vectorised against looped: M members trained as one `ctx.fit(n_seeds=M)` against the same
M members trained by M calls of one seed each, on one thread.

The rows record that both ways give the same members (`max_loss_difference`): only the
arithmetic is shared. This experiment also draws the claim's speedup figure, from its own
verdict and those of `threads` and `gpu`.
"""

from __future__ import annotations

import numpy as np

from whydl.config import TrainConfig
from whydl.engine.device import torch_threads
from whydl.evidence.compute.speedup import MIN_SPEEDUP, NOT_MEASURED, SpeedupRule
from whydl.evidence.compute.timing import LR, TimingExperiment, seconds, timed_fit, timing_data
from whydl.plots.style import PALETTE, label, new_figure

HIDDEN = (32, 32)
BATCH = 64
SPEEDUP_PARTS = ("vectorised", "threads", "gpu")  # the parts the speedup figure shows


class Vectorised(TimingExperiment):
    name = "vectorised"

    def __init__(self, params: dict):
        self.rule = SpeedupRule(self.name, "looped", "vectorised", params["repeats"])

    def train(self, ctx, params, seeds, chosen):
        data, fits = timing_data(), {}
        M, epochs = params["members"], params["vector_epochs"]
        with torch_threads(1):  # no threading mixed in
            for repeat in range(params["repeats"]):
                train = TrainConfig(lr=LR, batch_size=BATCH, epochs=epochs, n_seeds=M)
                fits["vectorised", repeat] = timed_fit(
                    ctx, data, HIDDEN, train, f"vectorised {M}", repeat
                )
                for s in range(M):
                    one = TrainConfig(lr=LR, batch_size=BATCH, epochs=epochs, seed=s)
                    tag = f"looped seed {s}"
                    fits[s, repeat] = timed_fit(ctx, data, HIDDEN, one, tag, repeat)
        return fits

    def rows(self, run):
        M, epochs = run.params["members"], run.params["vector_epochs"]
        samples = M * len(timing_data().X_train) * epochs
        out = []
        for repeat in range(run.params["repeats"]):
            together = run.fits["vectorised", repeat]
            alone = [run.fits[s, repeat] for s in range(M)]
            # the same members either way: only the arithmetic is shared
            last = np.array([f.history.val_loss[0, -1] for f in alone])
            difference = float(np.max(np.abs(together.history.val_loss[:, -1] - last)))
            looped = sum(seconds(f) for f in alone)
            for setting, t in (("looped", looped), ("vectorised", seconds(together))):
                out.append(
                    {
                        "setting": setting,
                        "members": M,
                        "repeat": repeat,
                        "seconds": t,
                        "samples_per_second": samples / t,
                        "max_loss_difference": difference,
                    }
                )
        return out

    def figures(self, run):
        verdicts = [run.verdict] + [run.others[name].verdict for name in SPEEDUP_PARTS[1:]]
        return {"parallel": plot_speedups(verdicts)}

    def notes(self, run):
        if "speedup" not in run.verdict.numbers:
            return []
        difference = max(r["max_loss_difference"] for r in run.rows)
        return [
            "Vectorised against looped: the same members either way (final test losses "
            f"differ by at most {difference:.1e}); the speedup comes from sharing per-step "
            "overhead and from larger matrix products."
        ]


def plot_speedups(verdicts):
    """Each form of parallelism's speedup with its 95% CI, or what kept it unmeasured."""
    fig, ax = new_figure()
    labels = ["vectorised\nvs looped", "2 threads\nvs 1", "GPU\nvs CPU"]
    colors = [PALETTE["blue"], PALETTE["green"], PALETTE["vermillion"]]
    for i, (verdict, color) in enumerate(zip(verdicts, colors)):
        v = verdict.numbers
        if "speedup" in v:
            err = [[v["speedup"] - v["speedup_ci_low"]], [v["speedup_ci_high"] - v["speedup"]]]
            ax.bar(i, v["speedup"], color=color, yerr=err, capsize=4)
            ax.text(i, v["speedup"], f" {v['speedup']:.1f}x", ha="left", va="bottom", fontsize=9)
        else:
            status = v.get("status", NOT_MEASURED).replace(" on ", "\non ")
            ax.text(i, 1.0, status, ha="center", va="bottom", fontsize=8)
    ax.axhline(1.0, color="black", lw=1, ls="--", label="no speedup")
    ax.axhline(MIN_SPEEDUP, color="grey", lw=1, ls=":", label=f"minimum effect {MIN_SPEEDUP:g}x")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    label(
        ax,
        "",
        "speedup (slower seconds / faster seconds)",
        "Speedup of parallel execution (above 1: faster)",
    )
    caption = (
        "Speedup of each form of parallelism, geometric mean over repeats with 95% CI: the "
        "engine's vectorised members against the same members one by one, two torch threads "
        "against one, CUDA against the CPU (only where a GPU is present). Dotted: the "
        "minimum speedup of interest."
    )
    return fig, caption
