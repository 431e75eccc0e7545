"""Part 3, "double descent": the width sweep with LABEL_NOISE of the training labels
replaced (Nakkiran et al. 2019). Reported with its verdict; it does not decide the claim.

The interpolation threshold (where the models start to fit every noisy training label) is
chosen on the selection seeds, which train the same noisy sweep on their own splits; the
rule then compares test error there with the smaller and the larger widths on the
evaluation seeds.
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.experiment import Experiment
from whydl.evidence.flexibility.double_descent_rule import (
    INTERPOLATION_ERROR,
    DoubleDescentRule,
    interpolation_width,
)
from whydl.evidence.flexibility.labels import LABEL_NOISE, NOISY
from whydl.evidence.flexibility.recipe import final
from whydl.evidence.flexibility.sweep import n_parameters, sweep_calls, sweep_rows


class DoubleDescentExperiment(Experiment):
    name = "double descent"
    deciding = False
    selects = True

    def __init__(self, params: dict):
        self.rule = DoubleDescentRule(params["widths"])

    def selection_calls(self, params, seeds):
        return sweep_calls(NOISY, params, seeds)

    def choose(self, params, fits):
        """The interpolation threshold on the selection seeds' training error."""
        widths, n = params["widths"], params["n_selection_seeds"]
        train = np.array([1 - final(fits[w], "train_metric", n) for w in widths]).T
        width = interpolation_width(widths, train)
        return {
            "interpolation_width": width,
            "interpolation_n_parameters": None if width is None else n_parameters(width),
            "selection_train_error": {
                str(w): round(float(e), 5) for w, e in zip(widths, np.nanmean(train, axis=0))
            },
        }

    def calls(self, params, seeds, chosen):
        return sweep_calls(NOISY, params, seeds)

    def rows(self, run):
        width = run.chosen.get("interpolation_width")
        return [
            r | {"at_threshold": r["width"] == width}
            for r in sweep_rows(NOISY, run.fits, run.params, run.plan.evaluation)
        ]

    def notes(self, run):
        d, p = run.verdict.numbers, run.params
        errors, widths = d["test_error_mean"], d["widths"]
        best = int(np.nanargmin(errors))
        worst = best + int(np.nanargmax(errors[best:]))
        width = d["interpolation_width"]
        where = (
            f"no width's mean training error on the selection seeds falls below "
            f"{INTERPOLATION_ERROR:g}, so there is no threshold inside the sweep to test"
            if width is None
            else f"on the selection seeds, training error first falls below "
            f"{INTERPOLATION_ERROR:g} at width {width} ({n_parameters(width)} parameters)"
        )
        tested = ""
        if "rise" in d:
            tested = (
                f"; at the threshold, test error is {d['rise']:+.3f} (95% CI "
                f"{d['rise_ci_low']:+.3f} to {d['rise_ci_high']:+.3f}) above width "
                f"{d['rise_best_width']} and {d['fall']:+.3f} ({d['fall_ci_low']:+.3f} to "
                f"{d['fall_ci_high']:+.3f}) above width {d['fall_best_width']}, paired per seed"
            )
        return [
            f"{LABEL_NOISE:.0%} label noise: test error is lowest ({errors[best]:.3f}) at "
            f"width {widths[best]} ({n_parameters(widths[best])} parameters), rises to "
            f"{errors[worst]:.3f} at width {widths[worst]} and ends at {errors[-1]:.3f} at "
            f"the largest; {where}{tested}. Nakkiran et al. train for thousands of epochs; "
            f"here every model gets {p['epochs']}, which blurs the peak and can hide the "
            "second descent."
        ]
