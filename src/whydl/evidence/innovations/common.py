"""What the gradient and residual experiments share: each seed's own digits subset, training
curves of fits that may have diverged, and the numbers of a part that needs every one of
several effects (decided by `whydl.evidence.decide.every`).

Example
-------
>>> from whydl.evidence.decide import mean_effect
>>> a, b = mean_effect([3.0, 3.2, 3.1]), mean_effect([2.0, 2.1, 1.9])
>>> effects = {"a": (a, 1.0), "b": (b, 0.5)}
>>> verdict, numbers = decide_every(effects)
>>> verdict, numbers["b"]["verdict"]
('supported', 'supported')
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from whydl.errors import DivergedError
from whydl.evidence.decide import every
from whydl.evidence.protocol import SeedData, per_seed_data
from whydl.stats import summarize

# the engine scores its held-out rows after every epoch; where only the training loss
# matters, each member watches this many of its own test rows (at small n, scoring the whole
# test split every epoch costs more than the training step itself)
MONITOR_ROWS = 32


def digits(seeds, n_train: int = 0, monitor: int | None = MONITOR_ROWS) -> SeedData:
    """Every seed's own stratified split of the digits, on the first `n_train` rows of its
    training split (0: all; in its own random order, so smaller sets nest inside larger
    ones) and the first `monitor` rows of its test split (None: all of them, where the test
    score decides)."""
    data = per_seed_data("digits", seeds)
    data = data.subsample(n_train) if n_train else data
    return replace(data, test_rows=data.test_rows[:, :monitor]) if monitor else data


def probe(data: SeedData, m: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Member m's own probe batch: the first `rows` rows of its training rows, (X, y)."""
    index = data.train_rows[m, :rows]
    return data.pool.X_train[index], data.pool.y_train[index]


def chance_loss(data: SeedData) -> float:
    """The cross-entropy of a classifier that has learnt nothing: ln(number of classes)."""
    return math.log(data.pool.n_classes)


def train_loss(fit, n_members: int, n_epochs: int, failed: float) -> tuple[np.ndarray, np.ndarray]:
    """(M, epochs) training loss per member and (M,) whether each diverged. A member that
    diverged (all of them for a `DivergedError`, which the frame puts in place of a fit)
    counts as one that did not train: `failed` (the chance loss) at every epoch. Its true
    loss blew up past that, so the convention understates how badly it failed, and a
    diverged member still counts in the CI rather than silently dropping out of it."""
    if isinstance(fit, DivergedError):
        return np.full((n_members, n_epochs), failed), np.ones(n_members, dtype=bool)
    diverged = ~fit.ok
    return np.where(diverged[:, None], failed, fit.history.train_loss), diverged


def log10(x: float) -> float:
    return math.log10(x) if x > 0 else float("nan")


def summary(values) -> dict:
    """Mean and 95% CI over finite per-seed values (rounded), and their number: for a
    verdict's numbers and a headline, not for deciding."""
    s = summarize(list(values))
    return {k: round(s[k], 4) for k in ("mean", "ci_low", "ci_high")} | {"n": s["n"]}


def decide_every(effects: dict) -> tuple[str, dict]:
    """`decide.every` on named effects (`{name: (Effect, minimum)}`): the verdict and, per
    name, the effect's estimate, CI, seeds, minimum, its own three-way verdict and whether
    Holm showed it below its minimum (rounded, for a verdict's numbers)."""
    verdict, details = every([e for e, _ in effects.values()], [m for _, m in effects.values()])
    numbers = {
        name: {
            "estimate": round(e.estimate, 4),
            "ci_low": round(e.ci_low, 4),
            "ci_high": round(e.ci_high, 4),
            "n": e.n,
            "paired": e.paired,
            "minimum": minimum,
            "verdict": d["verdict"],
            "p_below_minimum": round(d["p_below_minimum"], 5),
            "holm_below_minimum": bool(d["holm_below_minimum"]),
        }
        for (name, (e, minimum)), d in zip(effects.items(), details)
    }
    return verdict, numbers
