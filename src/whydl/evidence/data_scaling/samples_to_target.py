"""How many samples reach a target accuracy, and does enough data reach it at all?

The rule tests the largest n, fixed before any data was seen ("enough data" is the most the
sweep has): its mean test accuracy against the target. The smallest n whose CI clears the
target is reported beside it, per task, as a description (it is not what is tested).
Reported beside the claim; it does not decide it. Trains nothing: it reads the main
model's curves of the tasks' own experiments.
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.data_scaling.curves import DATASETS, curve, score_curve
from whydl.evidence.decide import INCONCLUSIVE, mean_effect, three_way
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.rows import by_seed, levels
from whydl.evidence.verdict import Verdict
from whydl.plots.bands import ci_errorbar, mean_and_ci
from whydl.plots.style import CYCLE, label, new_figure

TARGET_ACCURACY = {"spiral": 0.95, "teacher": 0.90, "digits": 0.95}
TESTED = "spiral"  # the task whose target the rule tests
MIN_MARGIN = 0.005  # minimum effect: accuracy half a point above the target
MIN_MARGIN_REASON = (
    "half a point of accuracy: closer to the target than that, whether it is reached "
    "depends on the test set drawn (sd about 0.2 points for 4,096 points at 98%)"
)
# the simulator: accuracy at the largest n per seed, as the old full run had it (CI 0.3 points)
SIM_SEED_SD = 0.004  # each seed's own data, test set and initialisation
SIM_CONFIG_SD = 0.0005  # the cell's own, shared by its seeds (see model_size: kept small)
CLEAR_MARGIN = 0.02  # a clear effect: two points above the target
SIM_SIZES = (512, 8192)


def reached(n, accuracy, target: float) -> dict:
    """The smallest n whose mean accuracy reaches `target` with its 95% CI (and without),
    and each seed's own smallest n (NaN when never reached). `accuracy` is (seeds, k)."""
    mean, low, _high = mean_and_ci(accuracy)
    reliable = [n[i] for i in range(len(n)) if low[i] >= target]
    on_average = [n[i] for i in range(len(n)) if mean[i] >= target]
    per_seed = [next((n[i] for i, a in enumerate(row) if a >= target), np.nan) for row in accuracy]
    return {
        "n_reached": float(reliable[0]) if reliable else None,
        "n_reached_on_average": float(on_average[0]) if on_average else None,
        "n_per_seed": [float(v) for v in per_seed],
    }


class SamplesToTargetRule(Rule):
    """Rows: one per (dataset, n, seed) with test_accuracy."""

    name = "samples_to_target"
    hypothesis = (
        f"Enough training data takes {TESTED} to {TARGET_ACCURACY[TESTED]:.0%} test accuracy."
    )
    minimum_effect = MIN_MARGIN
    minimum_effect_reason = MIN_MARGIN_REASON

    def text(self) -> str:
        return (
            f"the mean test accuracy on {TESTED} at the largest n minus the target "
            f"{TARGET_ACCURACY[TESTED]:.0%}; supported when its 95% CI lies above 0; not "
            f"supported when it lies below {MIN_MARGIN} (the target not cleared by half a "
            "point); otherwise inconclusive."
        )

    def decide(self, rows) -> Verdict:
        sizes = levels(rows, "n", dataset=TESTED)
        if not sizes:
            return self.verdict(INCONCLUSIVE, {}, 0)
        target = TARGET_ACCURACY[TESTED]
        accuracy = by_seed(rows, "test_accuracy", dataset=TESTED, n=sizes[-1])
        margin = mean_effect({s: a - target for s, a in accuracy.items()})
        n, per_seed = curve(rows, "test_accuracy", dataset=TESTED)
        numbers = {
            "target": target,
            "largest_n": sizes[-1],
            "accuracy_at_largest_n": margin.estimate + target,
            **margin.numbers("margin"),
            **reached(n, per_seed, target),
        }
        return self.verdict(three_way(margin, MIN_MARGIN), numbers, margin.n)

    def simulate(self, condition, rng, n_evaluation, n_selection) -> list[dict]:
        margin = {NULL: 0.0, MINIMUM: MIN_MARGIN, CLEAR: CLEAR_MARGIN}[condition]
        target = TARGET_ACCURACY[TESTED]
        means = [target - 0.05, target + margin]  # a smaller size below, the largest n
        grid = noisy_grid(rng, means, n_evaluation, SIM_SEED_SD, SIM_CONFIG_SD)
        return [
            {"dataset": TESTED, "n": n, "seed": s, "test_accuracy": float(grid[s, j])}
            for j, n in enumerate(SIM_SIZES)
            for s in range(n_evaluation)
        ]


class SamplesToTarget(Experiment):
    """Every task's accuracy against n, from its main-model curve."""

    name = "samples_to_target"
    rule = SamplesToTargetRule()
    deciding = False

    def rows(self, run) -> list[dict]:
        return [
            {
                "dataset": r["dataset"],
                "n": r["n"],
                "seed": r["seed"],
                "test_accuracy": 1.0 - r["test_error"],
            }
            for name in DATASETS
            for r in score_curve(run.others[name].fits, name, "main", run.params)
        ]

    def figures(self, run) -> dict:
        fig, ax = new_figure()
        for color, name in zip(CYCLE, DATASETS):
            n, accuracy = curve(run.rows, "test_accuracy", dataset=name)
            target = TARGET_ACCURACY[name]
            ci_errorbar(ax, n, accuracy, color, f"{name} (mean, 95% CI)")
            ax.axhline(target, color=color, ls="--", lw=1, label=f"{name} target {target:.0%}")
            first = reached(n, accuracy, target)["n_reached"]
            if first is not None:
                ax.axvline(first, color=color, ls=":", lw=1)
        ax.set_xscale("log", base=2)
        label(
            ax,
            "training samples n (log scale)",
            "test accuracy (fraction correct)",
            "How many samples reach the target accuracy",
            legend=7,
        )
        caption = (
            "Test accuracy against n with 95% CIs over evaluation seeds (each its own data "
            "draw and test set); dashed lines are each task's target, dotted lines the "
            f"smallest n whose CI clears it. The rule tests {TESTED} at the largest n."
        )
        return {"samples_to_target": (fig, caption)}

    def notes(self, run) -> list[str]:
        notes = []
        for name in DATASETS:
            n, accuracy = curve(run.rows, "test_accuracy", dataset=name)
            if not len(n):
                continue
            first = reached(n, accuracy, TARGET_ACCURACY[name])["n_reached"]
            mean, low, high = (v[-1] for v in mean_and_ci(accuracy))
            notes.append(
                f"samples to {TARGET_ACCURACY[name]:.0%} test accuracy on {name}: "
                + (f"n = {first:.0f}" if first is not None else "not reached in the sweep")
                + f" (accuracy at n = {n[-1]:.0f}: {mean:.3f}, 95% CI {low:.3f} to {high:.3f})."
            )
        return notes
