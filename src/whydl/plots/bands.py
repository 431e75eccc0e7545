"""Seeds drawn as one line with its uncertainty: the one helper every claim's figures use.

`per_seed` is always (seeds, points): one row per seed, one column per x value.
"""

from __future__ import annotations

import numpy as np

from whydl.stats import summarize


def mean_and_ci(per_seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, CI low, CI high) per column of `per_seed` (seeds, points), over finite seeds."""
    values = np.atleast_2d(np.asarray(per_seed, dtype=float))
    stats = [summarize(col) for col in values.T]
    return tuple(np.array([s[k] for s in stats]) for k in ("mean", "ci_low", "ci_high"))


def ci_band(ax, x, per_seed, color, label, marker="o", **line):
    """Mean over seeds as a line, its 95% CI as a band (only with more than one seed).
    Returns the band's lowest value, for axis limits."""
    values = np.atleast_2d(np.asarray(per_seed, dtype=float))
    mean, low, high = mean_and_ci(values)
    n = values.shape[0]
    ax.plot(x, mean, marker=marker, color=color, label=f"{label} (mean, n={n})", **line)
    if n > 1:
        ax.fill_between(x, low, high, color=color, alpha=0.22, linewidth=0, label=f"{label} 95% CI")
    return float(np.nanmin(low))


def ci_errorbar(ax, x, per_seed, color, label, marker="o", log=False, **line):
    """Mean over seeds with 95% CI error bars; `log` keeps the bars above zero on a log axis;
    `line` passes to `ax.errorbar` (e.g. linestyle="none" for points that are not a curve)."""
    mean, low, high = mean_and_ci(per_seed)
    if log:
        low = np.where(low > 0, low, mean)
    err = np.vstack([mean - low, high - mean])
    ax.errorbar(x, mean, yerr=err, marker=marker, color=color, capsize=3, label=label, **line)


def percentile_band(ax, x, values, color, label):
    """Median line with a 10th-90th percentile band over members (rows of `values`): for
    curves whose spread, not the mean's uncertainty, is the point."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if values.shape[0] == 1:
        ax.plot(x, values[0], color=color, label=label)
        return
    low, mid, high = np.nanpercentile(values, [10, 50, 90], axis=0)
    ax.plot(x, mid, color=color, label=f"{label} (median)")
    ax.fill_between(x, low, high, color=color, alpha=0.25, linewidth=0, label=f"{label} (10–90%)")
