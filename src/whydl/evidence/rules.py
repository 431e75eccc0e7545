"""Building blocks for decision rules: comparisons of means with confidence intervals.

A rule is a pure function of a results table (or of per-seed values), so tests can feed it
hand-made numbers and see every outcome.
"""

from __future__ import annotations

import numpy as np

from whydl.stats import summarize


def mean_ci(values, level: float = 0.95) -> tuple[float, float]:
    """(mean, CI half-width) over finite values."""
    s = summarize(values, level)
    return s["mean"], (s["ci_high"] - s["ci_low"]) / 2


def beats(a, b, margin: float = 0.0) -> dict:
    """Does mean(a) exceed mean(b) by more than both CI half-widths plus `margin`?

    Returns the numbers and `better` (True), `worse` (b beats a the same way) or neither.
    """
    ma, ha = mean_ci(a)
    mb, hb = mean_ci(b)
    gap = ma - mb
    return {
        "mean_a": ma,
        "half_width_a": ha,
        "mean_b": mb,
        "half_width_b": hb,
        "difference": gap,
        "better": bool(gap > ha + hb + margin),
        "worse": bool(-gap > ha + hb + margin),
    }


def slope_ci(x, y_per_seed, level: float = 0.95) -> dict:
    """Least-squares slope of y against x for each seed (rows of `y_per_seed`), summarised
    over seeds: mean slope and its CI. Use log values for power-law exponents."""
    x = np.asarray(x, dtype=float)
    slopes = [np.polyfit(x, np.asarray(row, dtype=float), 1)[0] for row in y_per_seed]
    s = summarize(slopes, level)
    return {"slope": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"], "n": s["n"]}
