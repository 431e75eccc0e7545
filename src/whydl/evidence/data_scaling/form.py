"""Is the learning curve's form a power law, or would an exponential do as well?

A falling slope in log-log axes does not tell a power law from an exponential decay: both
fall. Their predictions do: fitted on the smaller sizes, a power law keeps falling by the
same factor per doubling of n, an exponential by ever more. So every evaluation seed's own
curve (the main model's, trained by the tasks' own experiments) is fitted on all but its
HELD_OUT largest sizes by three forms, each in log error:

- power law, log ε = α − b·log n (two parameters; the pre-registered form);
- exponential, log ε = α − k·n (two parameters, the same budget);
- power law with a floor, ε = a·n^(−b) + c (`whydl.analysis.powerlaw.fit_power_law`,
  three parameters; reported beside, not tested: the floor it needs is the one thing the
  smaller sizes cannot show);

and each predicts the held-out larger sizes. A form's prediction error on one seed is the
mean |log predicted − log observed| error over those sizes. The rule reads the exponential's
error minus the plain power law's, per seed, averaged over the tasks, paired by seed.

Nothing is chosen from data: the held-out sizes (the largest HELD_OUT of each curve) and the
tested form (plain) are fixed before any run, so this experiment has no selection seeds.
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.powerlaw import MIN_ERROR, fit_power_law
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.data_scaling.curves import DATASETS, curve, score_curve
from whydl.evidence.decide import INCONCLUSIVE, mean_effect, three_way
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.verdict import Verdict

HELD_OUT = 3  # the largest sizes of each curve are predicted, never fitted
MIN_FIT_SIZES = 3  # a two-parameter line needs three points to be tested at all
TESTED = "power_law"  # pre-registered: plain, two parameters, like the exponential
FORMS = ("power_law", "exponential", "power_law_floor")
MIN_ADVANTAGE = 0.1  # minimum effect, in mean |log error| of the predictions
MIN_ADVANTAGE_REASON = (
    "0.1 in log error: predictions 10% closer to the observed error at the held-out sizes; "
    "one 4,096-point test set moves a 2% error by about 11% (sd of log error), so a smaller "
    "difference is within what the draw of the test set alone can make"
)
# the simulator: per (task, seed) log prediction errors of the two forms
SIM_ERROR = 0.3  # the power law's mean |log error| on held-out sizes
SIM_SEED_SD = 0.25  # each seed's own curve: its draw and test set
SIM_SHARED_SD = 0.2  # a seed's luck shared by both forms' fits (the same points)
SIM_CONFIG_SD = 0.03  # a (task, form) cell's own, shared by its seeds
CLEAR_ADVANTAGE = 0.5  # a clear effect: the exponential 0.5 worse in log error
SIM_ADVANTAGES = {NULL: 0.0, MINIMUM: MIN_ADVANTAGE, CLEAR: CLEAR_ADVANTAGE}


def split(sizes) -> tuple[list, list]:
    """(fitted sizes, held-out sizes): the largest HELD_OUT held out, fewer when the curve
    is short (at least MIN_FIT_SIZES fitted); no held-out sizes when it is too short."""
    sizes = list(sizes)
    held = min(HELD_OUT, len(sizes) - MIN_FIT_SIZES)
    return (sizes, []) if held < 1 else (sizes[:-held], sizes[-held:])


def _line(x, y) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line y = intercept + slope·x."""
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def predictions(n_fit, error_fit, n_held) -> dict:
    """{form: predicted log error at `n_held`}, each form fitted to one curve's smaller
    sizes (`n_fit`, `error_fit`)."""
    n_fit, n_held = np.asarray(n_fit, float), np.asarray(n_held, float)
    log_e = np.log(np.clip(np.asarray(error_fit, float), MIN_ERROR, None))
    a, slope = _line(np.log(n_fit), log_e)
    power = a + slope * np.log(n_held)
    a, rate = _line(n_fit, log_e)
    exponential = a + rate * n_held
    floor = fit_power_law(n_fit, np.exp(log_e)).predict(n_held)
    out = {"power_law": power, "exponential": exponential}
    out["power_law_floor"] = np.log(np.clip(floor, MIN_ERROR, None))
    return {k: np.maximum(v, np.log(MIN_ERROR)) for k, v in out.items()}


def form_rows(dataset: str, n, errors, seeds) -> list[dict]:
    """One row per (seed, form): its mean |log error| at the held-out sizes. `errors` is
    (seeds, k) test error at sizes `n`."""
    fitted, held = split(n)
    if not held:
        return []
    n = list(n)
    i_fit, i_held = [n.index(v) for v in fitted], [n.index(v) for v in held]
    rows = []
    for seed, curve_ in zip(seeds, np.asarray(errors, float)):
        observed = np.log(np.clip(curve_[i_held], MIN_ERROR, None))
        for form, predicted in predictions(fitted, curve_[i_fit], held).items():
            rows.append(
                {
                    "dataset": dataset,
                    "seed": int(seed),
                    "form": form,
                    "fit_n": [float(fitted[0]), float(fitted[-1])],
                    "held_out_n": [float(v) for v in held],
                    "log_prediction_error": float(np.mean(np.abs(predicted - observed))),
                }
            )
    return rows


def complete_seeds(rows) -> list[int]:
    """The seeds with a finite test error at every size, in order: `curve` keeps those."""
    seeds = sorted({r["seed"] for r in rows})
    bad = {r["seed"] for r in rows if not np.isfinite(r["test_error"])}
    return [s for s in seeds if s not in bad]


def _errors(rows) -> dict:
    """{dataset: {form: {seed: log prediction error}}}."""
    out: dict = {}
    for r in rows:
        out.setdefault(r["dataset"], {}).setdefault(r["form"], {})[r["seed"]] = r[
            "log_prediction_error"
        ]
    return out


class FormRule(Rule):
    """Rows: one per (dataset, seed, form) with log_prediction_error."""

    name = "form"
    hypothesis = (
        "The learning curve is a power law: fitted on the smaller sizes, a power law predicts "
        "the larger sizes' test error better than an exponential does."
    )
    minimum_effect = MIN_ADVANTAGE
    minimum_effect_reason = MIN_ADVANTAGE_REASON

    def text(self) -> str:
        return (
            f"each evaluation seed's curve is fitted on all but its {HELD_OUT} largest sizes "
            "by a plain power law (log error linear in log n; pre-registered) and by an "
            "exponential (log error linear in n), and each predicts the held-out sizes; per "
            "seed, the exponential's mean |log error| minus the power law's, averaged over "
            "the tasks (positive: the power law predicts better); supported when its 95% CI "
            f"lies above 0; not supported when it lies below {MIN_ADVANTAGE}; otherwise "
            "inconclusive. The power law with a floor is reported beside, not tested."
        )

    def decide(self, rows) -> Verdict:
        errors = _errors(rows)
        per_task = {
            d: {
                s: forms["exponential"][s] - forms[TESTED][s]
                for s in forms.get(TESTED, {})
                if s in forms.get("exponential", {})
            }
            for d, forms in errors.items()
        }
        per_task = {d: v for d, v in per_task.items() if v}
        if not per_task:
            return self.verdict(INCONCLUSIVE, {}, 0)
        seeds = sorted(set.intersection(*(set(v) for v in per_task.values())))
        effect = mean_effect({s: np.mean([v[s] for v in per_task.values()]) for s in seeds})
        numbers = {**effect.numbers("advantage"), "tested_form": TESTED}
        for d, forms in errors.items():
            numbers[d] = {
                f"{form}_log_prediction_error": float(np.mean(list(v.values())))
                for form, v in forms.items()
            }
            if d in per_task:
                numbers[d].update(mean_effect(per_task[d]).numbers("advantage"))
        return self.verdict(three_way(effect, MIN_ADVANTAGE), numbers, effect.n)

    def simulate(self, condition, rng, n_evaluation, n_selection) -> list[dict]:
        advantage = SIM_ADVANTAGES[condition]
        rows = []
        for dataset in DATASETS:
            means = [SIM_ERROR, SIM_ERROR + advantage]  # power law, exponential
            grid = noisy_grid(rng, means, n_evaluation, SIM_SEED_SD, SIM_CONFIG_SD, SIM_SHARED_SD)
            rows += [
                {
                    "dataset": dataset,
                    "seed": s,
                    "form": form,
                    # not folded at zero: abs() would bias the simulated difference upward
                    "log_prediction_error": float(grid[s, j]),
                }
                for s in range(n_evaluation)
                for j, form in enumerate(("power_law", "exponential"))
            ]
        return rows


class Form(Experiment):
    """The three forms on every task's main-model curve (trained by the tasks' experiments)."""

    name = "form"
    rule = FormRule()

    def rows(self, run) -> list[dict]:
        rows = []
        for name in DATASETS:
            scored = score_curve(run.others[name].fits, name, "main", run.params)
            n, errors = curve(scored, "test_error")
            rows += form_rows(name, n, errors, complete_seeds(scored))
        return rows

    def notes(self, run) -> list[str]:
        v = run.verdict.numbers
        if "advantage" not in v:
            return ["form: too few sizes to hold any out (quick preset?)."]
        parts = []
        for name in DATASETS:
            s = v.get(name)
            if s:
                parts.append(
                    f"{name}: power law {s['power_law_log_prediction_error']:.2f}, "
                    f"exponential {s['exponential_log_prediction_error']:.2f}, power law "
                    f"with a floor {s['power_law_floor_log_prediction_error']:.2f}"
                )
        return [
            f"Form of the curve, mean |log error| of the predictions at the {HELD_OUT} "
            f"largest sizes from fits on the smaller ones: {'; '.join(parts)}. The "
            f"exponential is worse by {v['advantage']:.2f} (95% CI {v['advantage_ci_low']:.2f}"
            f" to {v['advantage_ci_high']:.2f}, paired over seeds): {run.verdict.verdict}."
        ]
