"""What the batch-norm and optimiser races share: steps to a target, a learning rate chosen
per arm on selection seeds, the speed-up of one arm over another when some runs never reach
the target, and a simulator of such a race for the rules' calibration.

A *race* trains several arms (with and without batch norm; four optimisers), each over its
own learning-rate grid, and counts the steps until a curve (test accuracy, training loss)
first reaches a target. Each arm's learning rate is chosen on selection seeds (`Race.tune`);
the rows the rule reads are the evaluation seeds' runs at the chosen rates (`Race.rows`).

Steps are counted in whole epochs, and a run that never reaches the target within its
budget counts as its budget plus one epoch: a run's true steps lie in an interval, and
`speedup` decides on the bounds of the per-seed ratio that follow, so neither the rounding
nor the censoring can decide for or against a claim.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from whydl.data import load_dataset
from whydl.errors import DivergedError
from whydl.evidence.decide import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Effect,
    mean_effect,
    three_way,
)
from whydl.evidence.experiment import Rule
from whydl.evidence.rows import select


def steps_to_target(curve, target: float, steps_per_epoch: int, below: bool = False):
    """Per member (rows of `curve`, (M, epochs)): the steps until the curve first reaches
    `target` (>= target, or <= with `below`), and whether it did. Members that never do
    count as their budget plus one epoch, a lower bound on the truth.

    Example
    -------
    >>> steps, reached = steps_to_target([[0.5, 0.95], [0.5, 0.6]], 0.9, 10)
    >>> steps.tolist(), reached.tolist()
    ([20.0, 30.0], [True, False])
    """
    curve = np.asarray(curve, dtype=float)
    with np.errstate(invalid="ignore"):
        hit = curve <= target if below else curve >= target
    reached = hit.any(1)
    first = np.where(reached, hit.argmax(1) + 1, curve.shape[1] + 1)
    return (first * steps_per_epoch).astype(float), reached


@functools.cache
def digits_train_size(n_train: int = 0) -> int:
    """How many training rows `digits(seeds, n_train)` gives each seed (every data seed's
    stratified split has the same size)."""
    return n_train or len(load_dataset("digits").X_train)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimiser steps per epoch on `n_train` rows."""
    return math.ceil(n_train / batch_size)


def last(fit, curve: str, n_members: int) -> np.ndarray:
    """Each member's last value of history `curve` ("val_metric": on its own test split),
    NaN for members that diverged (all of them for a `DivergedError`)."""
    if isinstance(fit, DivergedError):
        return np.full(n_members, np.nan)
    return np.where(fit.ok, getattr(fit.history, curve)[:, -1], np.nan)


def geometric_mean(values) -> float:
    """exp(mean(ln values)), rounded to 4 significant digits (step counts); NaN when empty."""
    values = np.asarray(list(values), dtype=float)
    return float(f"{np.exp(np.mean(np.log(values))):.4g}") if len(values) else math.nan


def grid_edge(grid, lr) -> bool:
    """Whether `lr` sits at either end of a grid of more than one point."""
    grid = list(grid)
    return len(grid) > 1 and lr in (grid[0], grid[-1])


def choose_lr(steps: dict, tiebreak: dict):
    """The learning rate (key of `steps`: lr -> per-seed steps) with the fewest steps in
    geometric mean; ties (steps count whole epochs) go to the lower mean `tiebreak` (lr ->
    per-seed values, lower is better; NaN counts as worst), then to the first in the grid."""

    def score(lr):
        value = np.asarray(tiebreak[lr], dtype=float)
        finite = np.isfinite(value).all()
        return (float(np.mean(np.log(steps[lr]))), float(value.mean()) if finite else math.inf)

    return min(steps, key=score)


MIN_SPEEDUP = 1.5  # both races' minimum effect of interest, as a ratio of steps


class RaceRule(Rule):
    """A race's rule: steps to a target, one arm against another; its minimum effect of
    interest is a speed-up of MIN_SPEEDUP (each race says why in its reason)."""

    minimum_effect = math.log(MIN_SPEEDUP)


@dataclass(frozen=True)
class Race:
    """Steps until each member's history `curve` ("val_metric", "train_loss") first reaches
    `target` (>=, or <= with `below`); `per_epoch` steps per epoch; `epochs[arm]` the arm's
    budget in epochs."""

    curve: str
    target: float
    below: bool
    per_epoch: int
    epochs: dict

    def curves(self, fit, arm: str, n_members: int) -> np.ndarray:
        """(M, epochs) of the arm's `curve`; NaN for diverged members (all, for a
        `DivergedError`) and after a member stopped."""
        out = np.full((n_members, self.epochs[arm]), np.nan)
        if isinstance(fit, DivergedError):
            return out
        values = np.asarray(getattr(fit.history, self.curve), dtype=float)
        out[:, : values.shape[1]] = np.where(fit.ok[:, None], values, np.nan)
        return out

    def steps(self, fit, arm: str, n_members: int):
        """(steps, reached) per member, as `steps_to_target` counts them."""
        curve = self.curves(fit, arm, n_members)
        return steps_to_target(curve, self.target, self.per_epoch, self.below)

    def final(self, fit, n_members: int) -> np.ndarray:
        """Each member's last value of the curve (NaN when it diverged)."""
        return last(fit, self.curve, n_members)

    def tune(self, fits: dict, arm: str, n_members: int):
        """The arm's learning rate, from its selection fits (lr -> fit): fewest steps, ties
        to the better final value of the curve."""
        sign = 1.0 if self.below else -1.0  # the tie-break: lower is better
        steps = {lr: self.steps(f, arm, n_members)[0] for lr, f in fits.items()}
        finals = {lr: sign * self.final(f, n_members) for lr, f in fits.items()}
        return choose_lr(steps, finals)

    def choose(self, fits: dict, grids: dict, n_members: int) -> dict:
        """What the selection fits ((arm, lr) -> fit over `grids[arm]`) choose, as a run's
        `chosen`: each arm's learning rate (`tune`), the arms whose rate sits at an edge of
        their grid, and each arm's geometric mean steps per learning rate."""
        lrs = {
            arm: self.tune({lr: fits[arm, lr] for lr in grid}, arm, n_members)
            for arm, grid in grids.items()
        }
        steps = {
            arm: {
                f"{lr:g}": geometric_mean(self.steps(fits[arm, lr], arm, n_members)[0])
                for lr in grid
            }
            for arm, grid in grids.items()
        }
        edge = [arm for arm, grid in grids.items() if grid_edge(grid, lrs[arm])]
        return {"lr": lrs, "at_grid_edge": edge, "selection_steps": steps}

    def rows(self, fit, arm: str, lr: float, seeds) -> list[dict]:
        """One tidy row per seed of the arm's run at `lr`: steps, reached, final value."""
        steps, reached = self.steps(fit, arm, len(seeds))
        final = self.final(fit, len(seeds))
        return [
            {
                "seed": int(s),
                "arm": arm,
                "lr": float(lr),
                "steps": float(steps[m]),
                "reached": bool(reached[m]),
                "steps_per_epoch": self.per_epoch,
                f"final_{self.curve}": float(final[m]),
            }
            for m, s in enumerate(seeds)
        ]


@dataclass(frozen=True)
class Speedup:
    """A fast arm's speed-up over a slow one, ln(steps slow / steps fast) per seed, paired
    over the seeds both ran: `counted` from the steps as counted (the estimate to report),
    `low` and `high` from the bounds each run's true steps lie within (what the verdict
    reads). An unbounded side (a run cut off by its budget, or one that reached the target
    in its first epoch) makes that bound's effect infinite, and so undecidable."""

    counted: Effect
    low: Effect
    high: Effect

    def numbers(self, prefix: str) -> dict:
        """The counted effect as `Effect.numbers(prefix)`, the two bounds the verdict reads
        (`<prefix>_low_ci_low`, `<prefix>_high_ci_high`; None where a bound is open) and
        the speed-up as a ratio (`speedup`, `speedup_ci_low`, `speedup_ci_high`)."""
        out = self.counted.numbers(prefix)
        for key, value in (
            (f"{prefix}_low_ci_low", self.low.ci_low),
            (f"{prefix}_high_ci_high", self.high.ci_high),
        ):
            out[key] = value if math.isfinite(value) else None
        ratio = prefix.replace("log_speedup", "speedup")
        out[ratio] = math.exp(self.counted.estimate)
        out[f"{ratio}_ci_low"] = math.exp(self.counted.ci_low)
        out[f"{ratio}_ci_high"] = math.exp(self.counted.ci_high)
        return out

    def verdict(self, minimum: float) -> str:
        """Supported when even the lower bounds' CI lies above 0; not supported when even
        the upper bounds' CI lies below `minimum`; otherwise inconclusive."""
        if three_way(self.low, minimum) == SUPPORTED:
            return SUPPORTED
        if three_way(self.high, minimum) == NOT_SUPPORTED:
            return NOT_SUPPORTED
        return INCONCLUSIVE


def _bounds(rows, arm: str) -> dict:
    """seed -> ln of (counted steps, the least and the most steps it can have taken): a run
    that reached the target did so within the epoch it was counted at; one that did not took
    more than its budget."""
    out = {}
    for r in select(rows, arm=arm):
        steps, epoch = r["steps"], r["steps_per_epoch"]
        high = steps if r["reached"] else math.inf
        out[r["seed"]] = (math.log(steps), _log(steps - epoch), math.log(high))
    return out


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def _mean(values) -> Effect:
    """`mean_effect` of per-seed values, or an infinite (undecidable) effect when a bound
    is missing on some seed."""
    values = np.asarray(values, dtype=float)
    if np.isfinite(values).all():
        return mean_effect(values)
    x = float(values[~np.isfinite(values)][0])
    return Effect(x, x, x, len(values))


def speedup(rows, slow: str, fast: str) -> Speedup:
    """The `Speedup` of arm `fast` over arm `slow` (rows with "seed", "arm", "steps",
    "reached" and "steps_per_epoch"); positive: `fast` needs fewer steps.

    Steps count whole epochs, and a run cut off by its budget counts as budget plus one
    epoch, so a run's true steps lie in (counted - one epoch, counted] when it reached the
    target and above its budget when it did not. The bounds of the per-seed ratio follow;
    deciding on them keeps epoch rounding (which pulls every ratio towards 1) and censoring
    (which hides how slow an arm was) from deciding for or against the claim."""
    a, b = _bounds(rows, slow), _bounds(rows, fast)
    seeds = sorted(set(a) & set(b))
    counted = [a[s][0] - b[s][0] for s in seeds]
    low = [a[s][1] - b[s][2] for s in seeds]
    high = [a[s][2] - b[s][1] for s in seeds]
    return Speedup(_mean(counted), _mean(low), _mean(high))


# simulation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaceNoise:
    """The noise of a simulated race, in ln(steps): `seed_sd` each run's own; `shared_sd` a
    seed's data draw and initialisation, shared by its arms (pairing cancels it);
    `config_sd` one (arm, lr) configuration's own, shared by ALL its seeds, selection and
    evaluation alike (choosing on selection seeds does not remove it); `curvature` the
    penalty per squared grid step away from an arm's best learning rate."""

    seed_sd: float
    shared_sd: float
    config_sd: float
    curvature: float


def _counted(rng, race: Race, arm: str, log_steps, n_seeds: int, shared, sd: float):
    """Simulated runs of one configuration: (steps counted as the race counts them,
    reached, the continuous log steps)."""
    x = log_steps + shared + rng.normal(0.0, sd, n_seeds)
    epochs = np.ceil(np.exp(x) / race.per_epoch)
    reached = epochs <= race.epochs[arm]
    return np.where(reached, epochs, race.epochs[arm] + 1) * race.per_epoch, reached, x


def simulate_race(
    rng, race: Race, log_steps: dict, grid, noise: RaceNoise, n_evaluation, n_selection
) -> list[dict]:
    """Rows of a simulated race: each arm's true ln(steps) at its best learning rate
    (`log_steps[arm]`, the grid's middle point) rises by `noise.curvature` per squared grid
    step away from it; every (arm, lr) configuration draws its own `config_sd` offset; each
    arm's rate is chosen on `n_selection` seeds (as `Race.tune` chooses) and raced on
    `n_evaluation` seeds, which share a draw per seed across arms."""
    grid = list(grid)
    centre = (len(grid) - 1) / 2
    truth = {
        arm: {
            lr: base + noise.curvature * (i - centre) ** 2 + rng.normal(0.0, noise.config_sd)
            for i, lr in enumerate(grid)
        }
        for arm, base in log_steps.items()
    }
    shared = rng.normal(0.0, noise.shared_sd, n_selection)
    chosen = {}
    for arm, by_lr in truth.items():
        runs = {
            lr: _counted(rng, race, arm, t, n_selection, shared, noise.seed_sd)
            for lr, t in by_lr.items()
        }
        chosen[arm] = choose_lr(
            {lr: r[0] for lr, r in runs.items()}, {lr: r[2] for lr, r in runs.items()}
        )
    shared = rng.normal(0.0, noise.shared_sd, n_evaluation)
    rows = []
    for arm, lr in chosen.items():
        steps, reached, _ = _counted(
            rng, race, arm, truth[arm][lr], n_evaluation, shared, noise.seed_sd
        )
        rows += [
            {
                "seed": s,
                "arm": arm,
                "lr": lr,
                "steps": float(steps[s]),
                "reached": bool(reached[s]),
                "steps_per_epoch": race.per_epoch,
            }
            for s in range(n_evaluation)
        ]
    return rows
