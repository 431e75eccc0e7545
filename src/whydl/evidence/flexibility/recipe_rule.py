"""The rule of "one recipe": the deep recipe against a linear model, task by task.

Rows: one per task, model ("deep" or "linear") and evaluation seed, with `test_metric`
(accuracy, or R² for regression; higher is better) and `nonlinear` (fixed in advance). Both
models train on the same seeds and each seed's own data draw, so every task is compared
paired: the effect is the mean per-seed difference deep - linear with its t-CI.

- nonlinear task, "wins clearly": the effect is deep - linear and its minimum effect of
  interest CLEAR_WIN; not supported when the CI lies below CLEAR_WIN (a win, if any, too
  small to be clear), else supported when it lies above 0;
- linear task, "matches" (non-inferiority): the effect is deep - linear + MATCH_MARGIN, in
  the claimed direction (positive: the deep recipe trails by less than MATCH_MARGIN), and
  its minimum effect MATCH_MINIMUM; not supported when the CI lies below MATCH_MINIMUM (the
  deep recipe shown to trail by more than MATCH_MARGIN - MATCH_MINIMUM), else supported
  when it lies above 0 (shown to trail by less than MATCH_MARGIN, if at all).

The part needs every task (`compare.every`): supported when all are; not supported when
Holm over the tasks shows one below its minimum; otherwise inconclusive.
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import every, paired_difference, shifted
from whydl.evidence.experiment import Rule

CLEAR_WIN = 0.05  # minimum effect on a nonlinear task: deep - linear, accuracy (or R²)
CLEAR_WIN_REASON = (
    "on a task a linear model cannot represent, a lead under 5 points of accuracy (0.05 of "
    "R²) is not the clear win the claim names: the linear models score 0.4-0.9 there"
)
MATCH_MARGIN = 0.02  # non-inferiority: on a linear task the recipe may trail by less than this
MATCH_MINIMUM = 0.01  # minimum effect on a linear task: deep - linear + MATCH_MARGIN
MATCH_MINIMUM_REASON = (
    "on a task a linear model already solves, trailing it by under 2 points of accuracy "
    "(MATCH_MARGIN) matches it for practical purposes (on wine one test point is 0.019); "
    "'not matching' needs the recipe shown to trail by more than MATCH_MARGIN - "
    "MATCH_MINIMUM = 1 point, which an unregularised recipe can cost against the textbook "
    "model of a linear task"
)

# the simulator (calibration): noise of test accuracy as measured at the full preset, for a
# nonlinear (True) and a linear (False) task
SIM_SEED_SD = {True: 0.05, False: 0.009}  # one model's seed-to-seed noise (0.002 to 0.1)
SIM_SHARED_SD = {True: 0.02, False: 0.005}  # a seed's data draw, shared by both models
SIM_CONFIG_FRACTION = 0.1  # noise of one task's model shared by all its seeds, per seed noise
SIM_TASK_SD = 0.05  # one task's difficulty, shared by both models and all seeds
SIM_CLEAR_WIN = 0.15  # a clear effect on a nonlinear task (measured: 0.12 to 0.48)
SIM_LEVEL = {True: 0.6, False: 0.95}  # the linear model's accuracy


class RecipeRule(Rule):
    """`tasks`: (task name, nonlinear?) for the simulator; `decide` reads both from rows.

    Example
    -------
    >>> rows = [{"task": "xor", "model": m, "nonlinear": True, "seed": s, "test_metric": v}
    ...         for s in range(3) for m, v in (("deep", 0.95 + s / 100), ("linear", 0.5))]
    >>> RecipeRule([("xor", True)]).decide(rows).verdict
    'supported'
    """

    name = "one recipe"
    hypothesis = (
        "One unchanged recipe matches or beats a linear model on every task and wins clearly "
        "where the task is nonlinear."
    )
    minimum_effect = CLEAR_WIN
    minimum_effect_reason = CLEAR_WIN_REASON
    models = ("deep", "linear")  # the recipe's rows, and its comparator's
    comparator = "linear model"  # how `text` names the comparator
    special = "Nonlinear"  # how `text` names the tasks that need a clear win

    def __init__(self, tasks):
        self.tasks = tuple((str(name), bool(nonlinear)) for name, nonlinear in tasks)

    def minimum_text(self) -> str:
        return (
            f"nonlinear tasks CLEAR_WIN={CLEAR_WIN:g}: {CLEAR_WIN_REASON}; linear tasks "
            f"MATCH_MINIMUM={MATCH_MINIMUM:g} (with MATCH_MARGIN={MATCH_MARGIN:g}): "
            f"{MATCH_MINIMUM_REASON}"
        )

    def text(self) -> str:
        nonlinear = [t for t, nl in self.tasks if nl]
        return (
            "per task, test accuracy (R² for regression) of the deep recipe against the "
            f"{self.comparator}, paired per evaluation seed (same seed, same data draw): the "
            "effect is the mean per-seed difference deep - comparator with its 95% t-CI. A "
            f"{self.special.lower()} task needs "
            f"a clear win: not supported when the CI lies below CLEAR_WIN={CLEAR_WIN:g}, else "
            "supported when it lies above 0. Any other task needs a match (non-inferiority): "
            f"the effect deep - comparator + MATCH_MARGIN (MATCH_MARGIN={MATCH_MARGIN:g}) is not "
            f"supported when its CI lies below MATCH_MINIMUM={MATCH_MINIMUM:g} (the recipe "
            f"shown to trail by more than {MATCH_MARGIN - MATCH_MINIMUM:g}), else supported "
            "when it lies above 0. The part requires ALL tasks: supported when every task is "
            "(an intersection: nothing to correct); not supported when Holm's correction over "
            "the tasks (family-wise 2.5%) shows at least one task below its minimum effect; "
            f"otherwise inconclusive (also with fewer than MIN_SEEDS seeds). {self.special} "
            f"(fixed in advance): {', '.join(nonlinear)}."
        )

    def decide(self, rows):
        scores, nonlinear = _by_task(rows)
        effects, minimums, table = [], [], {}
        for task in nonlinear:
            deep, comparator = scores[task, self.models[0]], scores[task, self.models[1]]
            difference = paired_difference(deep, comparator)
            kind = nonlinear[task]
            effect = difference if kind else shifted(difference, MATCH_MARGIN)
            effects.append(effect)
            minimums.append(CLEAR_WIN if kind else MATCH_MINIMUM)
            table[task] = {
                "nonlinear": kind,
                "requirement": "wins clearly" if kind else "matches",
                "deep_mean": _mean(deep),
                "comparator_mean": _mean(comparator),
                "difference": difference.estimate,
                "difference_ci_low": difference.ci_low,
                "difference_ci_high": difference.ci_high,
                "effect": effect.estimate,
                "n": difference.n,
            }
        verdict, details = every(effects, minimums)
        for task, detail in zip(table, details):
            table[task] |= detail
        n = min((e.n for e in effects), default=0)
        return self.verdict(verdict, {"tasks": _rounded(table)}, n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Every task at its clear effect, except: NULL puts one task (drawn) exactly at no
        effect, the least favourable null for an all-tasks rule; MINIMUM puts every task at
        its minimum effect, the least favourable case for 'not supported'."""
        null_task = rng.integers(len(self.tasks))
        rows = []
        for i, (task, nonlinear) in enumerate(self.tasks):
            level = SIM_LEVEL[nonlinear] + rng.normal(0, SIM_TASK_SD)
            difference = _true_difference(condition, nonlinear, i == null_task)
            seed_sd = SIM_SEED_SD[nonlinear]
            values = noisy_grid(
                rng,
                [level + difference, level],
                n_evaluation,
                seed_sd,
                SIM_CONFIG_FRACTION * seed_sd,
                SIM_SHARED_SD[nonlinear],
            )
            for m, model in enumerate(self.models):
                rows += [
                    {"task": task, "model": model, "nonlinear": nonlinear}
                    | {"metric": "accuracy", "seed": s, "test_metric": float(values[s, m])}
                    for s in range(n_evaluation)
                ]
        return rows


def _true_difference(condition: str, nonlinear: bool, is_null_task: bool) -> float:
    """deep - linear under a simulated condition."""
    if condition == MINIMUM:
        return CLEAR_WIN if nonlinear else MATCH_MINIMUM - MATCH_MARGIN
    if condition == NULL and is_null_task:
        return 0.0 if nonlinear else -MATCH_MARGIN
    if condition in (NULL, CLEAR):
        return SIM_CLEAR_WIN if nonlinear else 0.0  # "clear" on a linear task: equal
    raise ValueError(f"condition={condition!r}; expected one of {NULL}, {MINIMUM}, {CLEAR}.")


def _by_task(rows) -> tuple[dict, dict]:
    """{(task, model): {seed: test_metric}} and {task: nonlinear?}, in one pass (`decide`
    runs thousands of times in a calibration)."""
    scores, nonlinear = {}, {}
    for r in rows:
        scores.setdefault((r["task"], r["model"]), {})[r["seed"]] = float(r["test_metric"])
        nonlinear[r["task"]] = bool(r["nonlinear"])
    return scores, nonlinear


def _mean(values: dict) -> float:
    v = np.array(list(values.values()), dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _rounded(table: dict) -> dict:
    return {
        task: {k: round(v, 5) if isinstance(v, float) else v for k, v in t.items()}
        for task, t in table.items()
    }
