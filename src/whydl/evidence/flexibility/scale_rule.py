"""The rule of "scale": does test loss fall as the model grows?

Rows: one per width and evaluation seed (clean labels), with `n_parameters` and `test_loss`.
The effect is minus the least-squares slope of log test loss against log parameters (a
power-law exponent: positive means the loss falls as the model grows), over every width of
the sweep (fixed in advance: no region is chosen).

Its standard error has two parts: the seed-to-seed spread of the per-seed slopes, and the
scatter of the mean curve about its straight line (lack of fit, K - 2 degrees of freedom),
which holds the noise that belongs to each width and is shared by all its seeds: more seeds
never average that away, and a CI over seeds alone would be too narrow under it. The two
are combined with Welch-Satterthwaite's degrees of freedom. A curved (not straight) mean
curve widens the CI too: the rule is then conservative.

The largest model must also not have turned up: its loss, paired per seed, must not exceed
that of any smaller model (Holm over the smaller widths, family-wise 2.5%). Loss falling,
then rising again at the top, is not "falls as the model grows": inconclusive.
"""

from __future__ import annotations

import math

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import (
    INCONCLUSIVE,
    MIN_SEEDS,
    SUPPORTED,
    Effect,
    holm,
    paired_difference,
    slopes,
    three_way,
)
from whydl.evidence.experiment import Rule
from whydl.evidence.flexibility.labels import CLEAN
from whydl.evidence.rows import matrix
from whydl.stats import t_quantile

SCALE_MINIMUM = 0.05  # minimum exponent of interest: -slope of log loss on log parameters
SCALE_MINIMUM_REASON = (
    "an exponent under 0.05, two thirds of Kaplan et al.'s 0.076 for language models, makes "
    "the loss fall by under 30% over the sweep's three decades of parameters: too slow to "
    "call 'bigger does better'"
)

# the simulator (calibration): noise of log test loss, as measured on the full sweep
SIM_SEED_SD = 0.2  # each seed's own (measured: 0.19)
SIM_SHARED_SD = 0.2  # a seed's split and training labels, shared by its widths (0.18)
SIM_CONFIG_SD = 0.1  # one width, shared by all its seeds: half the seeds' own
SIM_CLEAR_EXPONENT = 0.3  # a clear effect (measured on this sweep: 0.34)


def exponent(log_n, log_loss) -> tuple[Effect, dict]:
    """-slope of `log_loss` (seeds, K) on `log_n` (K,), with the CI of the module docstring,
    and its parts."""
    log_n = np.asarray(log_n, dtype=float)
    per_seed = -slopes(log_n, log_loss)
    n, k = len(per_seed), len(log_n)
    nan = float("nan")
    if n < 2 or k < 3:
        return Effect(nan, nan, nan, n), {}
    estimate = float(per_seed.mean())
    var_seeds = float(per_seed.var(ddof=1)) / n
    x = log_n - log_n.mean()
    mean_curve = log_loss.mean(axis=0)
    fitted = mean_curve.mean() - estimate * x
    var_fit = float(((mean_curve - fitted) ** 2).sum()) / (k - 2) / float(x @ x)
    variance = var_seeds + var_fit
    se = math.sqrt(variance)
    if variance > 0:
        df = variance**2 / (var_seeds**2 / (n - 1) + var_fit**2 / (k - 2))
    else:
        df = float(n - 1)
    half = t_quantile(df) * se
    effect = Effect(estimate, estimate - half, estimate + half, n, True, se, df)
    return effect, {"se_seeds": math.sqrt(var_seeds), "se_lack_of_fit": math.sqrt(var_fit)}


class ScaleRule(Rule):
    """`widths` and their `n_parameters`: the sweep, for the simulator; `decide` reads the
    sizes from the rows.

    Example
    -------
    >>> rows = [{"n_parameters": n, "seed": s, "test_loss": 2 * n**-0.3 * (1 + s / 50)}
    ...         for n in (100, 1000, 10000, 100000) for s in range(3)]
    >>> ScaleRule([1, 10, 100, 1000], [100, 1000, 10000, 100000]).decide(rows).verdict
    'supported'
    """

    name = "scale"
    hypothesis = "Test loss falls as the model grows (clean labels)."
    minimum_effect = SCALE_MINIMUM
    minimum_effect_reason = SCALE_MINIMUM_REASON

    def __init__(self, widths, n_parameters):
        self.widths = tuple(int(w) for w in widths)
        self.n_parameters = tuple(int(n) for n in n_parameters)

    def text(self) -> str:
        return (
            "the exponent: minus the least-squares slope of log test loss against log "
            "parameters over every width of the sweep (fixed in advance), per evaluation seed; "
            "its 95% CI combines the seeds' spread with the mean curve's scatter about its "
            "line (noise shared by all seeds of a width), with Welch-Satterthwaite degrees of "
            "freedom. Supported when the CI lies above 0 and the largest model has not turned "
            "up (its loss, paired per seed, exceeds no smaller model's: Holm over the smaller "
            "widths, family-wise 2.5%); not supported when the CI lies below "
            f"SCALE_MINIMUM={SCALE_MINIMUM:g}; otherwise inconclusive (a loss that falls and "
            "then rises again at the top is that: there the data, not the model, limits), "
            "also with fewer than MIN_SEEDS seeds."
        )

    def decide(self, rows):
        sizes, _seeds, losses = matrix(rows, "test_loss", "n_parameters")
        losses = losses[np.isfinite(losses).all(axis=1) & (losses > 0).all(axis=1)]
        log_n = np.log(np.asarray(sizes, dtype=float))
        effect, parts = exponent(log_n, np.log(losses))
        verdict = three_way(effect, SCALE_MINIMUM)
        above = _turned_up(losses)
        turned_up = bool(any(above))
        if verdict == SUPPORTED and turned_up:
            verdict = INCONCLUSIVE
        means = losses.mean(axis=0) if len(losses) else np.full(len(sizes), np.nan)
        numbers = {
            "n_parameters": [float(n) for n in sizes],
            "test_loss_mean": [round(float(m), 5) for m in means],
            "slope": round(-effect.estimate, 5),
            "slope_ci_low": round(-effect.ci_high, 5),
            "slope_ci_high": round(-effect.ci_low, 5),
            **{k: round(v, 5) for k, v in parts.items()},
            **effect.numbers("exponent"),
            "best_n_parameters": float(sizes[int(np.nanargmin(means))]) if len(losses) else None,
            "turned_up": turned_up,
            "turned_up_against": [float(n) for n, a in zip(sizes, above) if a],
        }
        return self.verdict(verdict, numbers, effect.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """log loss = a straight line in log parameters (slope 0 under NULL, -SCALE_MINIMUM
        at MINIMUM, -SIM_CLEAR_EXPONENT when CLEAR) with seed, shared and per-width noise."""
        exponents = {NULL: 0.0, MINIMUM: SCALE_MINIMUM, CLEAR: SIM_CLEAR_EXPONENT}
        log_n = np.log(np.asarray(self.n_parameters, dtype=float))
        line = math.log(0.5) - exponents[condition] * (log_n - log_n.mean())
        log_loss = noisy_grid(
            rng, line, n_evaluation, SIM_SEED_SD, SIM_CONFIG_SD, SIM_SHARED_SD
        )  # (seeds, widths)
        return [
            {"labels": CLEAN, "width": w, "n_parameters": n, "seed": s}
            | {"test_loss": float(np.exp(log_loss[s, k])), "test_error": 0.1, "train_error": 0.0}
            for k, (w, n) in enumerate(zip(self.widths, self.n_parameters))
            for s in range(n_evaluation)
        ]


def _turned_up(losses: np.ndarray) -> list[bool]:
    """Per width: does the largest model's loss exceed this width's (Holm over the smaller
    widths)? False everywhere with fewer than MIN_SEEDS seeds."""
    k = losses.shape[1]
    if len(losses) < MIN_SEEDS or k < 2:
        return [False] * k
    effects = [paired_difference(losses[:, -1], losses[:, j]) for j in range(k - 1)]
    return [*holm([e.p_value() for e in effects]), False]
