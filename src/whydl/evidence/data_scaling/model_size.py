"""A small against a larger model on the same samples: does the larger one gain more from
data, so that at the largest n it has the lower test error?

Both models train on the same evaluation seeds, and seed s draws the same data for both,
so the comparison is paired: the CI of the per-seed difference of test errors at the
largest n. Reported beside the claim; it does not decide it.
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.data_scaling.curves import MODELS, curve, curve_calls, score_curve
from whydl.evidence.data_scaling.effects import all_required
from whydl.evidence.decide import INCONCLUSIVE, SUPPORTED, paired_difference, three_way
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.verdict import Verdict
from whydl.plots.bands import ci_errorbar
from whydl.plots.style import PALETTE, new_figure

COMPARED = ("spiral", "teacher")  # where the small model trains beside the main one
MIN_ADVANTAGE = 0.005  # minimum effect: the larger model half a point of error lower
MIN_ADVANTAGE_REASON = (
    "half a point of test error at the largest n: a smaller difference is within what the "
    "draw of one test set moves (sd about 0.45 points for 4,096 points at 9% error)"
)
# the simulator: test error at the largest n per (model, seed), as the old full run had it
SIM_ERROR = 0.05  # the larger model's error
SIM_SEED_SD = 0.005  # each member's own (the old run: CIs of 0.3-0.7 points over 10 seeds)
SIM_SHARED_SD = 0.005  # a seed's data draw, shared by both models: pairing cancels it
# one (model, n) cell's own deviation, shared by its seeds. Every seed draws its own data,
# test set and initialisation, so what a cell's seeds share is its fixed schedule: part of
# the comparison itself, not noise. A one-cell comparison cannot tell such a deviation from
# an effect; the rates assume it is small (0.05 points; see docs/claims/data.md for 0.1)
SIM_CONFIG_SD = 0.0005
CLEAR_ADVANTAGE = 0.02  # a clear effect: two points of error lower
SIM_SIZES = (512, 8192)  # a smaller size and the largest: the rule reads the largest


class ModelSizeRule(Rule):
    """Rows: one per (dataset, model, n, seed) with test_error; models "main" and "small"."""

    name = "model_size"
    hypothesis = "A larger model gains more from more data: at the largest n it beats a small one."
    minimum_effect = MIN_ADVANTAGE
    minimum_effect_reason = MIN_ADVANTAGE_REASON

    def text(self) -> str:
        return (
            f"on each compared task, the paired per-seed difference of test error at the "
            f"largest n, small {MODELS['small']} minus larger {MODELS['main']} (positive: the "
            "larger model wins); supported when its 95% CI lies above 0 on every task (all "
            "of); not supported when on any task the CI's upper end, at the Bonferroni level "
            f"(one-sided 2.5% / tasks), lies below {MIN_ADVANTAGE}; otherwise inconclusive."
        )

    def decide(self, rows) -> Verdict:
        errors = _errors(rows)
        effects, numbers = {}, {}
        for name in sorted({d for d, _m in errors}):
            small, large = errors.get((name, "small"), {}), errors.get((name, "main"), {})
            sizes = sorted(set(small) & set(large))
            if not sizes:
                continue
            largest = sizes[-1]
            effects[name] = paired_difference(small[largest], large[largest])
            numbers[name] = {
                "largest_n": largest,
                "error_small": float(np.nanmean(list(small[largest].values()))),
                "error_large": float(np.nanmean(list(large[largest].values()))),
                **effects[name].numbers("advantage"),
                **_crossover(sizes, small, large),
            }
        if not effects:
            return self.verdict(INCONCLUSIVE, numbers, 0)
        verdict, each = all_required(effects, dict.fromkeys(effects, MIN_ADVANTAGE))
        for name, v in each.items():
            numbers[name]["verdict"] = v
        return self.verdict(verdict, numbers, min(e.n for e in effects.values()))

    def simulate(self, condition, rng, n_evaluation, n_selection) -> list[dict]:
        # the least favourable: the null on one task (the other clearly so), the minimum on both
        advantages = {
            NULL: (0.0, CLEAR_ADVANTAGE),
            MINIMUM: (MIN_ADVANTAGE, MIN_ADVANTAGE),
            CLEAR: (CLEAR_ADVANTAGE, CLEAR_ADVANTAGE),
        }[condition]
        rows = []
        for name, advantage in zip(COMPARED, advantages):
            means = [SIM_ERROR + advantage, SIM_ERROR] * len(SIM_SIZES)  # (small, main) per n
            grid = noisy_grid(rng, means, n_evaluation, SIM_SEED_SD, SIM_CONFIG_SD, SIM_SHARED_SD)
            for j, (n, model) in enumerate((n, m) for n in SIM_SIZES for m in ("small", "main")):
                rows += [
                    {"dataset": name, "model": model, "n": n, "seed": s, "test_error": grid[s, j]}
                    for s in range(n_evaluation)
                ]
        return rows


def _errors(rows) -> dict:
    """{(dataset, model): {n: {seed: test error}}}, in one pass over the rows."""
    out: dict = {}
    for r in rows:
        out.setdefault((r["dataset"], r["model"]), {}).setdefault(r["n"], {})[r["seed"]] = float(
            r["test_error"]
        )
    return out


def _crossover(sizes, small: dict, large: dict) -> dict:
    """Where the small model is better (paired 95% CI, each size on its own: descriptive,
    no correction for the many sizes) and the smallest n from which the larger one is."""
    small_better, large_better = [], []
    for n in sizes:
        large_better.append(three_way(paired_difference(small[n], large[n]), MIN_ADVANTAGE))
        if three_way(paired_difference(large[n], small[n]), MIN_ADVANTAGE) == SUPPORTED:
            small_better.append(n)
    wins = [v == SUPPORTED for v in large_better]
    pays_off = next((n for i, n in enumerate(sizes) if all(wins[i:])), None)
    return {"small_better_at_n": small_better, "large_better_from_n": pays_off}


class ModelSize(Experiment):
    """The small model's curves on the compared tasks, beside the main model's (trained by
    the tasks' own experiments, on the same evaluation seeds and data draws)."""

    name = "model_size"
    rule = ModelSizeRule()
    deciding = False

    def calls(self, params, seeds, chosen) -> dict:
        return {
            k: c for name in COMPARED for k, c in curve_calls(name, "small", params, seeds).items()
        }

    def rows(self, run) -> list[dict]:
        rows = []
        for name in COMPARED:
            rows += score_curve(run.others[name].fits, name, "main", run.params)
            rows += score_curve(run.fits, name, "small", run.params)
        return rows

    def figures(self, run) -> dict:
        fig, axes = new_figure(ncols=len(COMPARED), size=(4.8, 4.2))
        for ax, name in zip(np.atleast_1d(axes), COMPARED):
            for model, label, color in (
                ("small", "small", PALETTE["orange"]),
                ("main", "larger", PALETTE["blue"]),
            ):
                n, error = curve(run.rows, "test_error", dataset=name, model=model)
                ci_errorbar(
                    ax, n, error, color, f"{label} {MODELS[model]} (mean, 95% CI)", log=True
                )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("training samples n (log scale)")
            ax.set_ylabel("test error (fraction misclassified, log scale)")
            ax.set_title(name, fontsize=10)
            ax.legend(fontsize=8)
        fig.suptitle("A small and a larger model on the same samples: where does size pay off?")
        caption = (
            "Test error against n for a small and a larger MLP trained on the same samples "
            "(each seed its own data draw, the same for both models). Where the curves cross, "
            "the larger model starts to pay off; the paired difference at the largest n "
            "decides which one gains more from data."
        )
        return {"model_size": (fig, caption)}

    def notes(self, run) -> list[str]:
        notes = []
        for name in COMPARED:
            s = run.verdict.numbers.get(name)
            if s is None:
                continue
            sizes = ", ".join(f"{v:.0f}" for v in s["small_better_at_n"]) or "none"
            notes.append(
                f"model size on {name}: the small {MODELS['small']} model is better (paired "
                f"95% CI) at n = {sizes}; the larger {MODELS['main']} one "
                + (
                    f"is better at every n from {s['large_better_from_n']:.0f} on; "
                    if s["large_better_from_n"]
                    else "is not better at every size up to the largest; "
                )
                + f"at n = {s['largest_n']:.0f} it is {s['advantage']:.4f} lower (95% CI "
                f"{s['advantage_ci_low']:.4f} to {s['advantage_ci_high']:.4f}): {s['verdict']}."
            )
        return notes
