"""Throughput: samples per second of one MLP against batch size, on one thread.

Reported, not deciding: bigger batches mean fewer, larger matrix products per sample, but
the claim is about compute and parallel hardware, not about batch size.
"""

from __future__ import annotations

from whydl.config import TrainConfig
from whydl.engine.device import torch_threads
from whydl.evidence.compute.speedup import SpeedupRule
from whydl.evidence.compute.timing import LR, TimingExperiment, timed_fit, timing_data, timing_row
from whydl.evidence.rows import matrix
from whydl.plots.bands import ci_errorbar
from whydl.plots.style import PALETTE, new_figure

HIDDEN = (64, 64)


class Throughput(TimingExperiment):
    name = "throughput"
    deciding = False

    def __init__(self, params: dict):
        batches = params["batch_sizes"]
        slow, fast = f"batch {min(batches)}", f"batch {max(batches)}"
        self.rule = SpeedupRule(self.name, slow, fast, params["repeats"])

    def train(self, ctx, params, seeds, chosen):
        data, fits = timing_data(), {}
        with torch_threads(1):  # no threading mixed in
            for repeat in range(params["repeats"]):
                for batch in params["batch_sizes"]:
                    train = TrainConfig(lr=LR, batch_size=batch, epochs=params["throughput_epochs"])
                    fit = timed_fit(ctx, data, HIDDEN, train, f"batch {batch}", repeat)
                    fits[batch, repeat] = fit
        return fits

    def rows(self, run):
        samples = len(timing_data().X_train) * run.params["throughput_epochs"]
        return [
            timing_row(f"batch {batch}", repeat, fit, samples, batch_size=batch)
            for (batch, repeat), fit in run.fits.items()
        ]

    def figures(self, run):
        fig, ax = new_figure()
        # repeats stand where seeds stand in `matrix`: (repeats, batch sizes)
        rows = [r | {"seed": r["repeat"]} for r in run.rows]
        batches, _, per_repeat = matrix(rows, "samples_per_second", "batch_size")
        ci_errorbar(ax, batches, per_repeat, PALETTE["blue"], "mean over repeats, 95% CI", log=True)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size (samples per step, log scale)")
        ax.set_ylabel("training throughput (samples / s, log scale)")
        ax.set_title("Bigger batches: more samples per second")
        ax.legend(fontsize=8)
        caption = (
            f"Samples per second of one MLP {HIDDEN} on digits against batch size, on one "
            "thread, mean over repeats with 95% CI, including the engine's once-per-epoch "
            "evaluation."
        )
        return {"throughput": (fig, caption)}

    def notes(self, run):
        v = run.verdict.numbers
        if "speedup" not in v:
            return []
        return [
            f"Throughput grows {v['speedup']:.1f}x from the smallest to the largest batch "
            f"(95% CI {v['speedup_ci_low']:.1f} to {v['speedup_ci_high']:.1f}x): fewer, "
            "larger matrix products per sample."
        ]
