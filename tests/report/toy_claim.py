"""A tiny claim for the report's tests: two widths on two moons, a few epochs, two seeds."""

from __future__ import annotations

import numpy as np

from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.evidence import Claim, Verdict, combine
from whydl.evidence.frame import INCONCLUSIVE, SUPPORTED
from whydl.evidence.rules import beats
from whydl.plots.style import CYCLE, band, new_figure

MARGIN = 0.0


def wider_rule(table) -> Verdict:
    """Supported when the wide network's accuracy beats the narrow one's beyond both CIs."""
    wide = [r["accuracy"] for r in table if r["width"] == 16]
    narrow = [r["accuracy"] for r in table if r["width"] == 2]
    b = beats(wide, narrow, MARGIN)
    rule = f"supported when mean accuracy(width 16) - mean(width 2) > both CIs + {MARGIN}"
    verdict = SUPPORTED if b["better"] else INCONCLUSIVE
    return Verdict("wider", verdict, "wider is better", rule, b, len(wide))


class ToyClaim(Claim):
    name = "toy"
    title = "A toy claim"
    hypothesis = "A wider network fits two moons better."
    literature = ("Nobody et al. 2024: wider is better, sometimes.",)
    presets = {"quick": {"n_seeds": 2, "epochs": 3}, "full": {"n_seeds": 3, "epochs": 4}}

    def experiment(self, ctx, params):
        ds = load_dataset("moons", n_samples=200)
        table, curves = [], {}
        for width in (2, 16):
            train = TrainConfig(epochs=params["epochs"], n_seeds=params["n_seeds"])
            fit = ctx.fit(ds, ModelConfig(hidden=(width,)), train, tag=f"width={width}")
            curves[width] = fit.history.val_metric
            for seed, acc in zip(fit.seeds, fit.history.val_metric[:, -1]):
                table.append({"width": width, "seed": seed, "accuracy": float(acc)})
        fig, ax = new_figure()
        for color, (width, values) in zip(CYCLE, curves.items()):
            band(ax, np.arange(1, values.shape[1] + 1), values, color, f"width {width}")
        ax.set(title="Wider fits faster", xlabel="epoch", ylabel="test accuracy (fraction)")
        ax.legend()
        part = wider_rule(table)
        verdict = combine(self.name, self.hypothesis, [part], params["n_seeds"])
        return self.result(
            params,
            table,
            verdict,
            {"accuracy": (fig, "The wide network's band sits above the narrow one's.")},
            notes=["Three epochs is far too few to say anything; this is a test fixture."],
            headline=f"width 16 minus width 2: {part.numbers['difference']:.3f}",
        )


CLAIM = ToyClaim()
