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


def format_number(value, digits: int = 4) -> str:
    """`value` with `digits` decimals when that reads well, else in %g notation, so a loss of
    1e28 prints as '1e+28' and not as 29 digits.

    Example
    -------
    >>> format_number(0.98765), format_number(-2.5e27), format_number(float("nan"))
    ('0.9877', '-2.5e+27', 'nan')
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 10 ** -(digits - 1) <= abs(value) < 1e5:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}g}"


def format_summary(s: dict, digits: int = 4) -> str:
    """'0.9870 (95% CI 0.9839 to 0.9901, sd 0.0080, min 0.9700, max 1.0000, n=30)'.

    The mean and its CI bounds are shown rather than 'mean ± half-width': a CI clipped to the
    metric's range (accuracy <= 1) is no longer symmetric, and 'to' reads well before a
    negative bound, where an en dash would give '–-0.0042'.
    """
    num = lambda v: format_number(v, digits)  # noqa: E731
    if s["n"] <= 1:
        return f"{num(s['mean'])} (n={s['n']})"
    return (
        f"{num(s['mean'])} (95% CI {num(s['ci_low'])} to {num(s['ci_high'])}, "
        f"sd {num(s['std'])}, min {num(s['min'])}, max {num(s['max'])}, n={s['n']})"
    )
