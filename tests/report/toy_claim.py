"""A tiny claim for the report's tests, on the frame: two widths on two moons, a few
epochs, a few seeds, one experiment with a calibrated rule."""

from __future__ import annotations

import numpy as np

from whydl.config import ModelConfig, TrainConfig
from whydl.evidence import Claim, Experiment, Rule, TrainCall
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import paired_difference, three_way
from whydl.evidence.protocol import per_seed_data
from whydl.evidence.rows import by_seed, matrix
from whydl.plots.bands import ci_band
from whydl.plots.style import CYCLE, new_figure

GAIN = 0.01  # minimum effect of interest: one point of test accuracy
WIDTHS = (2, 16)


class WiderRule(Rule):
    name = "wider"
    hypothesis = "wider is better"
    minimum_effect = GAIN
    minimum_effect_reason = "a point of accuracy is the least a wider net must buy"

    def text(self):
        return (
            "paired by seed: accuracy(width 16) - accuracy(width 2); supported when its 95% "
            f"CI is above 0, not supported when it lies below {GAIN}"
        )

    def decide(self, rows):
        effect = paired_difference(
            by_seed(rows, "accuracy", width=16), by_seed(rows, "accuracy", width=2)
        )
        return self.verdict(three_way(effect, GAIN), effect.numbers("difference"), effect.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        gain = {NULL: 0.0, MINIMUM: GAIN, CLEAR: 0.1}[condition]
        values = noisy_grid(rng, [0.8, 0.8 + gain], n_evaluation, 0.02, 0.002, 0.03)
        return [
            {"seed": s, "width": w, "accuracy": values[s, j]}
            for s in range(n_evaluation)
            for j, w in enumerate(WIDTHS)
        ]


class Wider(Experiment):
    name = "wider"
    rule = WiderRule()

    def calls(self, params, seeds, chosen):
        data = per_seed_data("moons", seeds, n_samples=200)
        train = TrainConfig(epochs=params["epochs"], seed=seeds[0], n_seeds=len(seeds))
        return {
            w: TrainCall(data.pool, ModelConfig(hidden=(w,)), train, f"width={w}", data.hooks)
            for w in WIDTHS
        }

    def rows(self, run):
        return [
            {"width": w, "seed": seed, "accuracy": float(acc)}
            for w, fit in run.fits.items()
            for seed, acc in zip(fit.seeds, fit.history.val_metric[:, -1])
        ]

    def figures(self, run):
        fig, ax = new_figure()
        for color, width in zip(CYCLE, WIDTHS):
            values = np.asarray(run.fits[width].history.val_metric)
            ci_band(ax, np.arange(1, values.shape[1] + 1), values, color, f"width {width}")
        ax.set(title="Wider fits faster", xlabel="epoch", ylabel="test accuracy (fraction)")
        ax.legend()
        return {"accuracy": (fig, "The wide network's band sits above the narrow one's.")}

    def notes(self, run):
        return ["Three epochs is far too few to say anything; this is a test fixture."]


class ToyClaim(Claim):
    name = "toy"
    title = "A toy claim"
    hypothesis = "A wider network fits two moons better."
    literature = ("Nobody et al. 2024: wider is better, sometimes.",)
    presets = {"quick": {"n_seeds": 2, "epochs": 3}, "full": {"n_seeds": 3, "epochs": 4}}

    def experiments(self, params):
        return [Wider()]

    def headline(self, runs):
        widths, _, acc = matrix(runs[0].rows, "accuracy", "width")
        return f"width 16 minus width 2: {np.mean(acc[:, 1] - acc[:, 0]):.3f}"


CLAIM = ToyClaim()
