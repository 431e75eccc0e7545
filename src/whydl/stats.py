"""Summaries over seeds: mean, spread and Student-t confidence intervals."""

from __future__ import annotations

import math

import numpy as np


def t_quantile(df: int, level: float = 0.95) -> float:
    # scipy.special (shipped with scikit-learn) imports in a fraction of scipy.stats' time
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + level / 2))


def summarize(values, level: float = 0.95, bounds=(-math.inf, math.inf)) -> dict:
    """Mean, std (ddof=1), the `level` CI of the mean, min, max and n over finite values.

    `bounds` clips the CI to the metric's possible range (e.g. (0, 1) for accuracy), where
    the t-interval of a mean near 1 would otherwise run past it.

    Example
    -------
    >>> summarize([0.9, 1.0])["mean"]
    0.95
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        nan = float("nan")
        return {
            "n": 0,
            "mean": nan,
            "std": nan,
            "ci_low": nan,
            "ci_high": nan,
            "min": nan,
            "max": nan,
        }
    mean = float(v.mean())
    std = float(v.std(ddof=1)) if n > 1 else 0.0
    half = t_quantile(n - 1, level) * std / math.sqrt(n) if n > 1 else 0.0
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "ci_low": max(mean - half, bounds[0]),
        "ci_high": min(mean + half, bounds[1]),
        "min": float(v.min()),
        "max": float(v.max()),
    }


def ci_half_width(values, level: float = 0.95) -> float:
    s = summarize(values, level)
    return (s["ci_high"] - s["ci_low"]) / 2


def format_summary(s: dict, digits: int = 4) -> str:
    """'0.9870 ± 0.0031 (95% CI 0.9839–0.9901, sd 0.0080, min 0.97, max 1.00, n=30)'."""
    if s["n"] <= 1:
        return f"{s['mean']:.{digits}f} (n={s['n']})"
    half = t_quantile(s["n"] - 1) * s["std"] / math.sqrt(s["n"])
    return (
        f"{s['mean']:.{digits}f} ± {half:.{digits}f} (95% CI {s['ci_low']:.{digits}f}–"
        f"{s['ci_high']:.{digits}f}, sd {s['std']:.{digits}f}, min {s['min']:.{digits}f}, "
        f"max {s['max']:.{digits}f}, n={s['n']})"
    )
