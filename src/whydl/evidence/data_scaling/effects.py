"""The data claim's statistics: trends over training-set sizes, and parts that all must hold.

`size_trend` is a slope over sizes whose CI counts the noise that belongs to each size. A
learning curve's sizes are its configurations: whatever one size shares across all of its
seeds (its schedule, its luck) shifts every seed's curve at that size alike, so the spread
of per-seed slopes misses it. The trend is therefore the least-squares slope of the
seed-mean curve, and its CI comes from that curve's scatter about its line (k sizes, k - 2
degrees of freedom): the scatter holds both the seeds' noise (averaged) and each size's own.

`all_required` decides a part that needs every one of K effects (no multiplicity to
correct for "supported"). Its "not supported" (any one effect's CI below its minimum) has K
chances, so each effect's upper bound is taken at the Bonferroni level, one-sided
2.5% / K: at the joint minimum effect, "not supported" then stays below 2.5% in all.

Example
-------
>>> import numpy as np
>>> x = np.log([16, 32, 64, 128, 256])
>>> e = size_trend(x, [-0.3 * x + 0.01 * s for s in range(3)], sign=-1)
>>> round(e.estimate, 2), e.df
(0.3, 3)
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from whydl.evidence.decide import LEVEL, Effect, all_of, three_way
from whydl.stats import t_quantile


def complete(values: np.ndarray) -> np.ndarray:
    """The seeds (rows) with a value at every size: a diverged member leaves NaNs."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    return values[np.isfinite(values).all(axis=1)]


def size_trend(x, per_seed, sign: float = 1.0) -> Effect:
    """The slope of the seed-mean of `per_seed` (seeds, k) against `x` (k,), with the CI of
    a regression over the k sizes (k - 2 degrees of freedom); `sign=-1` turns "falls" into
    a positive effect. `n` of the effect is the number of complete seeds."""
    x = np.asarray(x, dtype=float)
    y = complete(per_seed)
    nan = float("nan")
    if len(x) < 3 or len(y) == 0:
        return Effect(nan, nan, nan, len(y))
    mean = y.mean(axis=0)
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float((mean - mean.mean()) @ xc / sxx)
    residual = mean - mean.mean() - slope * xc
    df = len(x) - 2
    se = math.sqrt(float(residual @ residual) / df / sxx)
    estimate = sign * slope
    half = t_quantile(df, LEVEL) * se
    return Effect(estimate, estimate - half, estimate + half, len(y), True, se, df)


def strict_upper(effect: Effect, k: int) -> Effect:
    """The effect with its CI's upper end at one-sided level (1 - LEVEL) / 2 / k (the lower
    end unchanged): "not supported" for one of k parts that must all hold."""
    if k <= 1 or not math.isfinite(effect.std_error):
        return effect
    high = effect.estimate + t_quantile(effect.df, 1 - (1 - LEVEL) / k) * effect.std_error
    return replace(effect, ci_high=high)


def all_required(effects: dict, minimums: dict) -> tuple[str, dict]:
    """The verdict of a part that needs every effect (see the module docstring), and each
    effect's own verdict under the Bonferroni upper bound."""
    k = len(effects)
    each = {
        key: three_way(strict_upper(effect, k), minimums[key]) for key, effect in effects.items()
    }
    return all_of(each.values()), each
