"""Depth against width at one parameter budget: test accuracy of MLPs of 1, 2, 4 and 8
hidden layers with the probed network's parameter count, on one dataset.

The rule compares the pre-registered pair (DEEP_DEPTH against SHALLOW_DEPTH hidden layers):
no architecture is chosen from the data. Every depth trains on each seed's own data draw
and is scored on that seed's own test rows, so the comparison is paired by seed. On spiral
the probed 4x16 network is the DEEP_DEPTH network of this sweep: its fit is borrowed from
the probes experiment rather than trained twice.
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.calls import TrainCall
from whydl.evidence.experiment import Experiment
from whydl.evidence.hierarchy.common import (
    DEEP_DEPTH,
    SHALLOW_DEPTH,
    TRAINED,
    budget,
    cell,
    depth_models,
    label,
    seed_data,
    train_config,
)
from whydl.evidence.hierarchy.paired_rule import PairedRule

ACCURACY_GAIN = 0.02  # minimum effect of interest: test accuracy, deep minus shallow
ACCURACY_GAIN_REASON = (
    "two points of test accuracy at one parameter budget: a smaller edge is within what a "
    "different learning rate or a few more epochs would change, so not a reason to prefer "
    "depth"
)
CLEAR_ACCURACY_GAIN = 0.06  # calibration: a clear edge (spiral's measured one is about 0.04)
# the simulator's noise of one test accuracy per seed (a paired difference varies by
# sqrt(2) x this: the full preset measured 0.034 on spiral, 0.028 on checkerboard), and of
# each seed's data draw, shared by every depth
SEED_SD = {"spiral": 0.025, "checkerboard": 0.02}
SHARED_SD = 0.01


class DepthWidth(Experiment):
    """Test accuracy by depth at one budget on `dataset`; `borrow` names the experiment
    whose fit of the DEEP_DEPTH network this one reuses (None: train it here)."""

    deciding = False

    def __init__(self, dataset: str, borrow: str | None = None):
        self.dataset, self.borrow = dataset, borrow
        self.name = f"depth_vs_width_{dataset}"
        self.rule = PairedRule(
            self.name,
            f"At equal parameter count a {DEEP_DEPTH}-hidden-layer network reaches a higher "
            f"test accuracy than a {SHALLOW_DEPTH}-hidden-layer one on {dataset}.",
            {"metric": "test_accuracy", "depth": DEEP_DEPTH},
            {"metric": "test_accuracy", "depth": SHALLOW_DEPTH},
            f"{DEEP_DEPTH} hidden layers",
            f"{SHALLOW_DEPTH} hidden layer",
            minimum=ACCURACY_GAIN,
            reason=ACCURACY_GAIN_REASON,
            clear=CLEAR_ACCURACY_GAIN,
            seed_sd=SEED_SD[dataset],
            shared_sd=SHARED_SD,
        )

    def calls(self, params, seeds, chosen):
        data = seed_data(self.dataset, params, seeds)
        train = train_config(params, seeds)
        return {
            label(model): TrainCall(
                data.pool, model, train, f"{self.dataset} {label(model)}", data.hooks
            )
            for depth, model in depth_models(params).items()
            if not (self.borrow and depth == DEEP_DEPTH)
        }

    def fit(self, run, depth: int):
        """The fit of the `depth` network: this run's, or the borrowed experiment's."""
        model = depth_models(run.params)[depth]
        if self.borrow and depth == DEEP_DEPTH:
            return run.others[self.borrow].fits.get(label(model))
        return run.fits.get(label(model))

    def cells(self, run) -> tuple[object, dict]:
        """(each seed's data, depth -> trained cell)."""
        data = seed_data(self.dataset, run.params, run.plan.evaluation)
        return data, {
            depth: cell(self.fit(run, depth), data.pool, model)
            for depth, model in depth_models(run.params).items()
        }

    def rows(self, run):
        _, cells = self.cells(run)
        out = []
        for depth, c in cells.items():
            if not c.seeds:
                continue
            accuracy = np.asarray(c.fit.history.val_metric)[c.index, -1]  # own test rows
            out += [
                {
                    "dataset": self.dataset,
                    "architecture": label(depth_models(run.params)[depth]),
                    "state": TRAINED,
                    "seed": seed,
                    "depth": depth,
                    "metric": "test_accuracy",
                    "value": float(a),
                }
                for seed, a in zip(c.seeds, accuracy)
            ]
        return out

    def notes(self, run):
        names = {d: label(m) for d, m in depth_models(run.params).items()}
        means = {
            d: np.mean([r["value"] for r in run.rows if r["depth"] == d])
            for d in names
            if any(r["depth"] == d for r in run.rows)
        }
        n = run.verdict.numbers
        return [
            f"Depth against width on {self.dataset} at {budget(run.params)} parameters, mean "
            "test accuracy: "
            + ", ".join(f"{names[d]} {m:.3f}" for d, m in means.items())
            + f" (descriptive: no rule reads which is highest). The rule compares the "
            f"pre-registered {names[DEEP_DEPTH]} with {names[SHALLOW_DEPTH]}, paired by seed: "
            f"{n['difference']:+.3f} (95% CI {n['difference_ci_low']:.3f} to "
            f"{n['difference_ci_high']:.3f}), {run.verdict.verdict}. The literature finds this "
            "mixed at small scale."
        ]
