"""The compute frontier's rule: does test loss fall with training compute, beyond what
picking the best of more configurations gives by itself?

The frontier at a budget is the (width, epoch) configuration with the lowest mean log test
loss among those that cost at most the budget, read at N_BUDGETS log-spaced budgets. The
experiment picks it on *selection seeds* and the rule measures it on *evaluation seeds*:
`slope`, the mean per-seed least-squares slope of log test loss against log budget.

Selection on other seeds does not make that slope honest. A configuration's luck (noise
that belongs to it, shared by all its seeds) is the same on both sets of seeds, and a larger
budget picks the best of more configurations: the frontier falls even when loss does not
depend on compute at all. So the rule compares the observed slope with permutation
references (configurations exchanged, their FLOPs kept in place), after ter Braak (1992):
the residuals of the evaluation means around their least-squares trend in log FLOPs are
permuted over configurations and a hypothesised trend `b` is added back.

- lower bound of the fall: references `b·log(FLOPs) + permuted residuals`, each with its
  frontier picked on those very values. Picking and measuring on the same values is at
  least as lucky as picking on selection seeds, so this bound is conservative. The bound is
  minus the largest trend b that the observed slope does not reject as too steep for it
  (bisection); above 0: supported.
- upper bound of the fall: the chosen configurations kept, permuted residuals read at them,
  no picking (no best-of-many luck): conservative the other way; in closed form. Below
  MIN_FALL: not supported.

The residuals are scaled by sqrt(C / (C - 2)), the variance a fitted line takes from them.

Shapes: rows -> config means (C,) over configurations sorted by FLOPs; references (B, C);
frontiers (B, K) indices of configurations, K = N_BUDGETS.

Example
-------
>>> rule = FrontierRule(widths=(4, 16), epochs=3)
>>> import numpy as np
>>> rows = rule.simulate("clear", np.random.default_rng(0), n_evaluation=10, n_selection=5)
>>> rule.decide(rows).verdict
'supported'
"""

from __future__ import annotations

import functools
import math

import numpy as np

from whydl.analysis.flops import mlp_forward_flops
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import (
    INCONCLUSIVE,
    LEVEL,
    MIN_SEEDS,
    Effect,
    mean_effect,
    slopes,
    three_way,
)
from whydl.evidence.experiment import Rule

N_BUDGETS = 8  # compute budgets, log-spaced from the cheapest to the dearest configuration
# distinct configurations the frontier must visit for a verdict: with fewer, the selection
# found no frontier to measure, and the upper bound (no picking) would ignore its luck
MIN_FRONTIER_POINTS = 3
MIN_FALL = 0.05  # minimum effect of interest: a log-log slope of -0.05
MIN_FALL_REASON = (
    "Kaplan et al. 2020 found test loss falling as C^-0.050 in training compute along the "
    "compute-efficient frontier, the shallowest of their scaling laws; a frontier that falls "
    "more slowly than that is not the compute scaling the claim is about."
)
CLEAR_FALL = 0.3  # a clear effect for calibration: two thirds of the 0.46 the v1 run saw
N_PERMUTATIONS = 199  # references per bound; p-values in steps of 1/200
PERMUTATION_SEED = 0  # the references are fixed: the rule is a pure function of its rows
ALPHA = (1 - LEVEL) / 2  # one-sided level of each bound of the 95% CI
SEARCH = 2.0  # trends searched for the lower bound, in log-log slope (far beyond digits')
BISECTION_STEPS = 11  # bound to SEARCH / 2**11 = 0.001
# the simulator's noise, in log test loss (the v1 full run: median seed sd 0.18 on one split)
SEED_SD = 0.2  # each seed's own (initialisation, data split)
CONFIG_SD = 0.2  # a configuration's own, shared by all its seeds, selection and evaluation
SHARED_SD = 0.1  # a seed's own, shared by its configurations (its split); slopes cancel it
DIGITS_SHAPE = (64, 10)  # inputs and classes of digits: the simulator's FLOPs grid


def frontier_row(seed, budget: int, budget_flops, width, epoch, flops, test_loss) -> dict:
    """One row the rule reads: at budget number `budget` (`budget_flops`), the frontier's
    configuration (width, epoch: `flops`) and one evaluation seed's test loss there. The
    experiment, the simulator and the tests build their rows with it."""
    return {
        "kind": "frontier",
        "seed": seed,
        "budget": budget,
        "budget_flops": float(budget_flops),
        "width": width,
        "epoch": epoch,
        "flops": flops,
        "test_loss": float(test_loss),
    }


def budgets(flops) -> np.ndarray:
    """N_BUDGETS log-spaced budgets from the cheapest to the dearest configuration."""
    flops = np.asarray(flops, dtype=float)
    return np.geomspace(flops.min(), flops.max(), N_BUDGETS)


def affordable(sorted_flops) -> np.ndarray:
    """(K,): how many of the configurations (sorted by FLOPs) each budget affords."""
    return np.searchsorted(sorted_flops, budgets(sorted_flops) * (1 + 1e-9), "right")


def frontier_indices(ends, values) -> np.ndarray:
    """(B, K): per row of `values` (B, C) (configurations sorted by FLOPs; NaN: missing),
    the configuration with the lowest value among the first `ends[k]`, those affordable at
    budget k. The affordable sets nest, so each new stretch is searched once and compared
    with the best so far."""
    if np.isnan(values).any():
        values = np.where(np.isnan(values), np.inf, values)
    rows = np.arange(len(values))
    best = np.zeros(len(values), dtype=int)
    out, start = [], 0
    for end in ends:
        if end > start:
            new = start + np.argmin(values[:, start:end], axis=1)
            best = np.where(values[rows, new] < values[rows, best], new, best) if start else new
            start = end
        out.append(best)
    return np.stack(out, axis=1)


def column_means(values) -> np.ndarray:
    """Mean of each column of `values` (rows, columns) over its finite entries; NaN for a
    column with none (no warning: a diverged configuration is expected now and then)."""
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def frontier_slopes(log_budgets, values, indices) -> np.ndarray:
    """(B,) least-squares slope of `values` (B, C) read at `indices` (B, K) against log
    budget: the frontier's fall per unit of log compute."""
    return slopes(log_budgets, np.take_along_axis(values, indices, axis=1))


@functools.lru_cache(maxsize=8)
def _permutations(n_configs: int) -> np.ndarray:
    """(B, C): the fixed random permutations of C configurations."""
    rng = np.random.default_rng(PERMUTATION_SEED)
    return np.argsort(rng.random((N_PERMUTATIONS, n_configs)), axis=1)


def _most_reaching() -> int:
    """A bound rejects a trend when at most this many references reach the observed slope:
    p = (1 + count) / (B + 1) < ALPHA (3 of 199; the tolerance absorbs float error)."""
    return math.ceil(ALPHA * (N_PERMUTATIONS + 1) - 1e-9) - 2


def _lower_bound(flops, log_budgets, residuals, observed) -> float:
    """The fall's lower bound: minus the largest trend b that the observed slope does not
    reject as too steep for it, against references b·log(FLOPs) + permuted residuals whose
    frontiers are picked on those same values."""
    x, ends = np.log(flops), affordable(flops)
    reference = np.empty_like(residuals)  # (B, C), reused: a fresh one each time costs more

    def rejects(b: float) -> bool:  # observed slope below (steeper than) nearly every reference
        np.add(b * x, residuals, out=reference)
        t = frontier_slopes(log_budgets, reference, frontier_indices(ends, reference))
        return int(np.sum(t <= observed)) <= _most_reaching()

    if rejects(0.0):  # supported: the largest trend not rejected lies below 0
        accepted, rejected = -SEARCH, 0.0
        if rejects(accepted):
            return SEARCH
    else:
        accepted, rejected = 0.0, SEARCH
        if not rejects(rejected):
            return -SEARCH
    for _ in range(BISECTION_STEPS):
        middle = (accepted + rejected) / 2
        if rejects(middle):
            rejected = middle
        else:
            accepted = middle
    return -accepted


def _upper_bound(log_budgets, residuals, chosen, observed) -> float:
    """The fall's upper bound: the chosen configurations with permuted residuals and no
    picking; observed = b + slope(residuals at the chosen) gives b in closed form."""
    indices = np.broadcast_to(chosen, (len(residuals), len(chosen)))
    reference = np.sort(frontier_slopes(log_budgets, residuals, indices))
    return float(reference[-1 - _most_reaching()] - observed)


def _table(rows):
    """(FLOPs (C,) sorted, config means of log test loss (C,), log budgets (K,), the chosen
    configuration per budget (K,), per-seed log test loss on the frontier (S, K))."""
    grid, front = [], []
    for r in rows:
        (grid if r["kind"] == "config" else front).append(r)
    keys = sorted({(r["flops"], r["width"], r["epoch"]) for r in grid})
    index = {(w, e): j for j, (_, w, e) in enumerate(keys)}
    seeds = sorted({r["seed"] for r in grid} | {r["seed"] for r in front})
    row_of = {s: i for i, s in enumerate(seeds)}
    loss = np.full((len(seeds), len(keys)), np.nan)
    for r in grid:
        loss[row_of[r["seed"]], index[r["width"], r["epoch"]]] = r["test_loss"]
    chosen = {r["budget"]: (r["budget_flops"], index[r["width"], r["epoch"]]) for r in front}
    order = sorted(chosen)
    at_frontier = np.full((len(seeds), len(order)), np.nan)
    for r in front:
        at_frontier[row_of[r["seed"]], order.index(r["budget"])] = r["test_loss"]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_loss, log_frontier = np.log(loss), np.log(at_frontier)
    return (
        np.array([k[0] for k in keys], dtype=float),
        column_means(log_loss),
        np.log([chosen[b][0] for b in order]),
        np.array([chosen[b][1] for b in order], dtype=int),
        log_frontier,
    )


class FrontierRule(Rule):
    """Three-way verdict on the fall of the frontier, calibrated on a grid of `widths` x
    `epochs` (the experiment's), with configuration noise shared by all seeds."""

    name = "frontier"
    hypothesis = "Along the compute frontier, more training compute gives lower test loss."
    minimum_effect = MIN_FALL
    minimum_effect_reason = MIN_FALL_REASON

    def __init__(self, widths=(4, 16), epochs: int = 3):
        self.widths = tuple(int(w) for w in widths)
        self.epochs = int(epochs)

    def minimum_text(self) -> str:
        return f"a fall of {MIN_FALL:g} (a log-log slope of -{MIN_FALL:g}): {MIN_FALL_REASON}"

    def text(self) -> str:
        return (
            "fall = minus the mean per-seed slope of log test loss against log budget (training "
            f"FLOPs) along the frontier (the lowest mean loss affordable at {N_BUDGETS} log-spaced "
            "budgets, picked on selection seeds, measured on evaluation seeds; inconclusive "
            f"unless it visits >= {MIN_FRONTIER_POINTS} configurations). Its 95% CI comes from "
            f"{N_PERMUTATIONS} permutations of the residuals over configurations: the lower "
            "bound against references that pick their own frontier (best-of-many luck "
            "included), the upper bound against the chosen configurations without picking. "
            "Supported when the CI lies above 0; not supported when it lies below "
            f"{MIN_FALL:g}; otherwise inconclusive."
        )

    def decide(self, rows):
        flops, means, log_budgets, chosen, at_frontier = _table(rows)
        per_seed = slopes(log_budgets, at_frontier) if len(chosen) > 1 else np.array([])  # (S,)
        finite = per_seed[np.isfinite(per_seed)]
        observed = float(np.mean(finite)) if len(finite) else float("nan")
        seeds_only = mean_effect(finite)  # a CI over seeds alone: no configuration luck
        numbers = {
            "slope": observed,
            "slope_seed_ci_low": seeds_only.ci_low,
            "slope_seed_ci_high": seeds_only.ci_high,
            "frontier_configs": len(set(chosen.tolist())),
            "n_permutations": N_PERMUTATIONS,
        }
        usable = np.isfinite(means)
        enough = len(finite) >= MIN_SEEDS and numbers["frontier_configs"] >= MIN_FRONTIER_POINTS
        if not enough or not usable[chosen].all():
            return self.verdict(INCONCLUSIVE, numbers, len(finite))
        # configurations that trained, with the chosen ones' positions among them
        flops, means, chosen = flops[usable], means[usable], np.cumsum(usable)[chosen] - 1
        x = np.log(flops)
        trend, intercept = np.polyfit(x, means, 1)
        # a fitted line leaves residuals smaller than the noise by (C - 2) / C in variance
        residuals = (means - intercept - trend * x) * math.sqrt(len(x) / max(len(x) - 2, 1))
        residuals = residuals[_permutations(len(x))]  # (B, C)
        effect = Effect(
            estimate=-observed,
            ci_low=_lower_bound(flops, log_budgets, residuals, observed),
            ci_high=_upper_bound(log_budgets, residuals, chosen, observed),
            n=len(finite),
            paired=False,
        )
        numbers |= effect.numbers("fall") | {
            "slope_ci_low": -effect.ci_high,
            "slope_ci_high": -effect.ci_low,
            "trend_all_configs": float(trend),
        }
        return self.verdict(three_way(effect, MIN_FALL), numbers, len(finite))

    def grid(self):
        """(width, epoch, FLOPs) of the grid, in the experiment's units up to a constant
        factor (samples per epoch): slopes in log FLOPs do not depend on it."""
        return [
            (w, e, 3.0 * mlp_forward_flops(*DIGITS_SHAPE, (w, w)) * e)
            for w in self.widths
            for e in range(1, self.epochs + 1)
        ]

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Rows like the experiment's: log loss = fall-free level - fall · log FLOPs +
        configuration noise (shared by selection and evaluation seeds) + seed noise."""
        fall = {NULL: 0.0, MINIMUM: MIN_FALL, CLEAR: CLEAR_FALL}[condition]
        grid = sorted(self.grid(), key=lambda g: g[2])
        flops = np.array([g[2] for g in grid])
        x = np.log(flops)
        true = -1.0 - fall * (x - x.mean()) + rng.normal(0.0, CONFIG_SD, len(x))
        selection = noisy_grid(rng, true, max(n_selection, 1), SEED_SD, 0.0, SHARED_SD)
        evaluation = noisy_grid(rng, true, n_evaluation, SEED_SD, 0.0, SHARED_SD)
        picked = frontier_indices(affordable(flops), selection.mean(axis=0, keepdims=True))[0]
        loss = np.exp(evaluation)
        rows = [
            {
                "kind": "config",
                "seed": s,
                "width": w,
                "epoch": e,
                "flops": f,
                "seconds": float("nan"),
                "test_loss": loss[s, j],
                "test_accuracy": float("nan"),
            }
            for s in range(n_evaluation)
            for j, (w, e, f) in enumerate(grid)
        ]
        for k, (budget, j) in enumerate(zip(budgets(flops), picked)):
            w, e, f = grid[j]
            rows += [frontier_row(s, k, budget, w, e, f, loss[s, j]) for s in range(n_evaluation)]
        return rows
