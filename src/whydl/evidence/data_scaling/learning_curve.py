"""One task's learning curve: does test error fall as a power law in n, and does the
train-test gap shrink?

The power-law region is a choice made from data, so it is made on the selection seeds
(their own initialisations and data draws): `curve_regions` on their mean curve finds where
every doubling of n clearly lowers the error, and where the curve flattens onto its floor.
The rule then reads only the evaluation seeds: the log-log slope of their mean curve over
that region, with a CI from the regression over the region's sizes (see `effects`), so
noise that one size shares across all seeds (selection seeds included) counts.
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.powerlaw import FLAT_DROP, MIN_ERROR, curve_regions
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.data_scaling.curves import (
    curve,
    curve_calls,
    curve_sizes,
    grids,
    score_curve,
)
from whydl.evidence.data_scaling.effects import all_required, size_trend
from whydl.evidence.decide import INCONCLUSIVE, MIN_SEEDS
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.verdict import Verdict

HYPOTHESIS = (
    "Test error falls as a power law in the number of training samples (down to a floor), "
    "and the train-test gap shrinks as the training set grows."
)
# sizes a power-law region needs before its slope is used (else all sizes): its CI has
# k - 2 degrees of freedom, and a 3-size region's one (t = 12.7) cannot test a slope
MIN_RANGE_POINTS = 4
MIN_SLOPE = 0.05  # minimum effect: a log-log slope of -0.05 (why: MIN_SLOPE_REASON)
MIN_SLOPE_REASON = (
    "a log-log slope flatter than -0.05 cuts the error by under 3.5% per doubling of n "
    "(halving it takes a million-fold more data), flatter than the flattest exponent "
    "Hestness et al. report (-0.07); the gap's minimum, 0.005 per doubling of n (5 points "
    "over the full sweep's ten doublings), is small next to the 30-40 point gaps at n = 16"
)
MIN_GAP_SHRINK = 0.005  # minimum effect of the gap: its fall per doubling of n

# the simulator (log error, per (seed, size)), near the old full run's curves: seeds
# scattered their log error by 0.04-0.56 (median 0.15); the seed-mean curves scatter about
# 0.05 about a smooth curve, so each size's own noise is simulated twice that large
SIM_ERROR = 0.4  # error at the smallest n
SIM_SEED_SD = 0.2  # each seed's own, per size
SIM_SHARED_SD = 0.1  # a seed's draw, shared by its sizes (a luckier sample all along)
SIM_CONFIG_SD = 0.1  # a size's own, shared by all its seeds, selection seeds too
SIM_GAP = 0.35  # gap at the smallest n; seeds scattered it by 0.002-0.06
SIM_GAP_SEED_SD, SIM_GAP_SHARED_SD, SIM_GAP_CONFIG_SD = 0.03, 0.01, 0.01
CLEAR_SLOPE = 0.3  # a clear effect: a log-log slope of -0.3 (Hestness et al.'s steep end)
CLEAR_GAP_SHRINK = 0.02  # and a gap falling 2 points per doubling (the old run: 3-5)
SIM_EFFECTS = {  # (slope, gap shrink) per condition; the null keeps the gap's clear fall
    NULL: (0.0, CLEAR_GAP_SHRINK),
    MINIMUM: (MIN_SLOPE, MIN_GAP_SHRINK),
    CLEAR: (CLEAR_SLOPE, CLEAR_GAP_SHRINK),
}


def region(n, errors) -> dict:
    """The power-law region and floor of a curve (the choice, made on selection seeds):
    `region_n` [first, last] size; all sizes when no region of MIN_RANGE_POINTS is found."""
    n = [float(v) for v in n]
    found = curve_regions(n, errors) if len(errors) else {"start": None, "floor": None}
    lo, hi = found["start"], found.get("end")
    ok = lo is not None and hi - lo + 1 >= MIN_RANGE_POINTS
    floor = found["floor"]
    return {
        "region_n": [n[lo], n[hi]] if ok else [n[0], n[-1]],
        "region_found": bool(ok),
        "detected_n": [n[lo], n[hi]] if lo is not None else None,  # before MIN_RANGE_POINTS
        "floor_from_n": n[floor] if floor is not None else None,
        "floor_error": found.get("floor_error") if floor is not None else None,
    }


class LearningCurveRule(Rule):
    """Rows: one per (n, seed) of one task's main model: test_error, gap, in_region."""

    minimum_effect = MIN_SLOPE
    minimum_effect_reason = MIN_SLOPE_REASON
    hypothesis = HYPOTHESIS

    def __init__(self, dataset: str, sizes):
        self.name = dataset
        self.sizes = tuple(int(n) for n in sizes)  # the run's sizes, for the simulator

    def text(self) -> str:
        return (
            "supported when BOTH (a) the log-log slope of the evaluation seeds' mean test "
            "error against n over the power-law region has a 95% CI below 0, and (b) the "
            "slope of the train-test gap against log2 n over all sizes has a 95% CI below 0; "
            "both CIs come from the regression over sizes (k - 2 degrees of freedom), so each "
            "size's own noise counts. The region is chosen on the selection seeds: sizes "
            f"whose doubling lowers their mean error by > {FLAT_DROP:.0%} and beyond both 95% "
            f"CIs, up to the floor (>= {MIN_RANGE_POINTS} sizes, else all sizes). Not "
            "supported when either CI, at the Bonferroni level (one-sided 1.25%), lies below "
            f"its minimum effect (a slope of -{MIN_SLOPE}; a gap falling {MIN_GAP_SHRINK} "
            "per doubling); otherwise inconclusive. All three tasks must hold (all of)."
        )

    def decide(self, rows) -> Verdict:
        n, values = grids(rows, ("test_error", "gap"))
        error, gap = values["test_error"], values["gap"]
        inside = sorted({r["n"] for r in rows if r.get("in_region")})
        use = np.isin(n, inside) if len(inside) >= MIN_RANGE_POINTS else np.ones(len(n), bool)
        seeds = len(error)
        if len(n) < MIN_RANGE_POINTS or seeds < MIN_SEEDS:
            numbers = {"sizes": len(n), "seeds": seeds}
            return self.verdict(INCONCLUSIVE, numbers, seeds)
        log_error = np.log(np.clip(error[:, use], MIN_ERROR, None))
        falls = size_trend(np.log(n[use]), log_error, sign=-1)
        shrinks = size_trend(np.log2(n), gap, sign=-1)
        verdict, each = all_required(
            {"slope": falls, "gap": shrinks}, {"slope": MIN_SLOPE, "gap": MIN_GAP_SHRINK}
        )
        numbers = {
            "slope": -falls.estimate,
            "slope_ci_low": -falls.ci_high,
            "slope_ci_high": -falls.ci_low,
            "slope_df": falls.df,
            "slope_verdict": each["slope"],
            "region_n": [float(n[use][0]), float(n[use][-1])],
            "region_sizes": int(use.sum()),
            "region_is_all_sizes": bool(use.all()),
            "gap_shrink_per_doubling": shrinks.estimate,
            "gap_shrink_ci_low": shrinks.ci_low,
            "gap_shrink_ci_high": shrinks.ci_high,
            "gap_verdict": each["gap"],
            "gap_smallest_n": float(gap[:, 0].mean()),
            "gap_largest_n": float(gap[:, -1].mean()),
        }
        return self.verdict(verdict, numbers, seeds)

    def simulate(self, condition, rng, n_evaluation, n_selection) -> list[dict]:
        slope, shrink = SIM_EFFECTS[condition]
        return simulate_curve(rng, self.sizes, n_evaluation, n_selection, slope, shrink)


def simulate_curve(rng, sizes, n_evaluation, n_selection, slope, shrink) -> list[dict]:
    """Rows of one simulated learning curve: log error falling by `slope` per e-fold of n
    and gap by `shrink` per doubling, with each size's own noise shared by all seeds; the
    region is chosen on simulated selection seeds that share it, as the experiment does."""
    n = np.asarray(sizes, dtype=float)
    doublings = np.log2(n / n[0])
    log_error = np.log(SIM_ERROR) - slope * np.log(n / n[0])
    log_error = log_error + rng.normal(0.0, SIM_CONFIG_SD, len(n))  # (k,)
    gap_mean = SIM_GAP - shrink * doublings + rng.normal(0.0, SIM_GAP_CONFIG_SD, len(n))

    def draw(m):  # (m, k) errors and gaps of m seeds, their own noise on the sizes' own
        errors = np.exp(noisy_grid(rng, log_error, m, SIM_SEED_SD, 0.0, SIM_SHARED_SD))
        gaps = noisy_grid(rng, gap_mean, m, SIM_GAP_SEED_SD, 0.0, SIM_GAP_SHARED_SD)
        return errors, gaps

    lo, hi = region(n, draw(n_selection)[0] if n_selection else np.empty((0, len(n))))["region_n"]
    errors, gaps = draw(n_evaluation)
    return [
        {
            "n": int(size),
            "seed": seed,
            "test_error": float(errors[seed, i]),
            "gap": float(gaps[seed, i]),
            "in_region": bool(lo <= size <= hi),
        }
        for seed in range(n_evaluation)
        for i, size in enumerate(n)
    ]


class LearningCurve(Experiment):
    """One task's learning curve on the main model; its region is chosen on selection seeds."""

    selects = True

    def __init__(self, dataset: str, params: dict):
        self.name = self.dataset = dataset
        self.rule = LearningCurveRule(dataset, curve_sizes(dataset, params))

    def selection_calls(self, params, seeds) -> dict:
        return curve_calls(self.dataset, "main", params, seeds)

    def choose(self, params, fits) -> dict:
        n, error = curve(score_curve(fits, self.dataset, "main", params), "test_error")
        if not len(n):  # every selection call diverged: no region to choose, all sizes
            n = np.asarray(curve_sizes(self.dataset, params), dtype=float)
            error = np.empty((0, len(n)))
        return region(n, error)

    def calls(self, params, seeds, chosen) -> dict:
        return curve_calls(self.dataset, "main", params, seeds)

    def rows(self, run) -> list[dict]:
        lo, hi = run.chosen["region_n"]
        return [
            {**row, "in_region": bool(lo <= row["n"] <= hi)}
            for row in score_curve(run.fits, self.dataset, "main", run.params)
        ]
